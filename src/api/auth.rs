use poem::Request;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};

use super::text::Text;
use super::users::UserOut;
use super::{ApiTags, BearerAuth};
use crate::AppState;
use crate::error::AppResult;
use crate::service::{auth, users};

pub struct AuthApi;

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct LoginRequest {
    email: Text,
    password: Text,
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

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Log in with email and password. Failed attempts are limited per IP and per account.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: Json<LoginRequest>,
    ) -> AppResult<Json<LoginResponse>> {
        let ip = crate::middleware::client_ip(&state.config, request);
        let access_token = auth::login(&state.services, &body.email, &body.password, &ip).await?;
        Ok(Json(LoginResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.services.jwt.ttl(),
        }))
    }

    /// Who the credentials belong to, with group memberships.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, state: Data<&AppState>, auth: BearerAuth) -> AppResult<Json<UserOut>> {
        let person = users::person(&state.services, auth.0.attributed_user_id()).await?;
        Ok(Json(person.into()))
    }
}
