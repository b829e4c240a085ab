use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json, types::MaybeUndefined};

use super::json::JsonBody;
use super::{ApiTags, BearerAuth, Created};
use crate::AppState;
use crate::domain::user::NewUser;
use crate::domain::{GroupRole, Role};
use crate::error::AppResult;
use crate::service::users::{self, Person, UserChange};

pub struct UsersApi;

#[derive(Object, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    email: String,
    /// 8 to 1024 characters.
    password: String,
    display_name: String,
    role: Role,
}

#[derive(Object, Default, serde::Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields, default)]
struct UpdateUser {
    #[oai(nullable)]
    display_name: MaybeUndefined<String>,
    #[oai(nullable)]
    role: MaybeUndefined<Role>,
    /// A disabled person cannot log in and their login tokens stop working.
    #[oai(nullable)]
    disabled: MaybeUndefined<bool>,
}

#[derive(Object)]
pub struct MembershipOut {
    /// Group slug.
    group: String,
    role: GroupRole,
}

#[derive(Object)]
pub struct UserOut {
    id: i64,
    email: String,
    display_name: String,
    role: Role,
    disabled: bool,
    memberships: Vec<MembershipOut>,
}

impl From<Person> for UserOut {
    fn from(person: Person) -> Self {
        let user = person.user;
        Self {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            disabled: user.disabled,
            memberships: person
                .memberships
                .into_iter()
                .map(|(group, role)| MembershipOut { group, role })
                .collect(),
        }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Users")]
impl UsersApi {
    /// Create a person (admins only).
    #[oai(path = "/users", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateUser>,
    ) -> AppResult<Created<UserOut>> {
        let body = body.0;
        let new = NewUser {
            email: body.email,
            password: body.password,
            display_name: body.display_name,
            role: body.role,
        };
        let person = users::create(&state.services, &auth.0, new).await?;
        Ok(Created::Created(Json(person.into())))
    }

    /// Everyone, with their memberships (admins only).
    #[oai(path = "/users", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> AppResult<Json<Vec<UserOut>>> {
        let people = users::list(&state.services, &auth.0, None).await?;
        Ok(Json(people.into_iter().map(UserOut::from).collect()))
    }

    /// Change a person's name, role, or disable them (admins only).
    #[oai(path = "/users/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: JsonBody<UpdateUser>,
    ) -> AppResult<Json<UserOut>> {
        let body = body.0;
        let mut errors = Vec::new();
        let change = UserChange {
            display_name: super::not_null("display_name", body.display_name, &mut errors),
            role: super::not_null("role", body.role, &mut errors),
            disabled: super::not_null("disabled", body.disabled, &mut errors),
        };
        let change = super::checked(change, errors)?;
        let person = users::update(&state.services, &auth.0, *id, change).await?;
        Ok(Json(person.into()))
    }
}
