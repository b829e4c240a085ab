use poem::Request;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, Union, payload::Json};

use super::json::JsonBody;
use super::users::UserOut;
use super::{ApiTags, BearerAuth};
use crate::AppState;
use crate::error::AppResult;
use crate::service::users::Identity;
use crate::service::{auth, users};

pub struct AuthApi;

#[derive(Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Object)]
struct LoginResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until the token expires.
    expires_in: i64,
}

/// What a group token may do: an editor's work in its one group.
const TOKEN_SCOPES: [&str; 2] = ["entries:read", "entries:write"];

/// A group's API token, as `GET /me` describes it.
#[derive(Object)]
struct TokenIdentity {
    id: i64,
    name: String,
    /// First characters of the secret, to recognize it.
    prefix: String,
    /// The group it acts for (as an editor).
    group: String,
    /// What it may do there.
    scopes: Vec<String>,
}

/// A person or a group token; `kind` says which.
#[derive(Union)]
#[oai(discriminator_name = "kind")]
enum MeOut {
    #[oai(mapping = "user")]
    User(UserOut),
    #[oai(mapping = "group_token")]
    GroupToken(TokenIdentity),
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Log in with email and password. Failed attempts are limited per IP and per account.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: JsonBody<LoginRequest>,
    ) -> AppResult<Json<LoginResponse>> {
        let ip = crate::middleware::client_ip(&state.config, request);
        let access_token = auth::login(&state.services, &body.email, &body.password, &ip).await?;
        Ok(Json(LoginResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.services.jwt.ttl(),
        }))
    }

    /// What the credential is: a person (with group memberships), or a
    /// group's API token (its group and what it may do).
    #[oai(path = "/me", method = "get")]
    async fn me(&self, state: Data<&AppState>, auth: BearerAuth) -> AppResult<Json<MeOut>> {
        Ok(Json(
            match users::identity(&state.services, &auth.0).await? {
                Identity::Person(person) => MeOut::User(person.into()),
                Identity::GroupToken { token, group_slug } => MeOut::GroupToken(TokenIdentity {
                    id: token.id,
                    name: token.name,
                    prefix: token.prefix,
                    group: group_slug,
                    scopes: TOKEN_SCOPES.iter().map(|scope| scope.to_string()).collect(),
                }),
            },
        ))
    }
}
