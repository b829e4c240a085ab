use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use super::text::Text;
use super::{ApiTags, BearerAuth, Created};
use crate::AppState;
use crate::domain::user::NewUser;
use crate::domain::{GroupRole, Role};
use crate::error::AppResult;
use crate::service::users::{self, Person, UserChange};

pub struct UsersApi;

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct CreateUser {
    email: Text,
    /// 8 to 1024 characters.
    password: Text,
    display_name: Text,
    role: Role,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct UpdateUser {
    #[oai(nullable)]
    display_name: Option<Text>,
    #[oai(nullable)]
    role: Option<Role>,
    /// A disabled person cannot log in and their login tokens stop working.
    #[oai(nullable)]
    disabled: Option<bool>,
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
        body: Json<CreateUser>,
    ) -> AppResult<Created<UserOut>> {
        let body = body.0;
        let new = NewUser {
            email: body.email.into(),
            password: body.password.into(),
            display_name: body.display_name.into(),
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
        let people = users::list(&state.services, &auth.0).await?;
        Ok(Json(people.into_iter().map(UserOut::from).collect()))
    }

    /// Change a person's name, role, or disable them (admins only).
    #[oai(path = "/users/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<i64>,
        body: Json<UpdateUser>,
    ) -> AppResult<Json<UserOut>> {
        let body = body.0;
        let change = UserChange {
            display_name: body.display_name.map(String::from),
            role: body.role,
            disabled: body.disabled,
        };
        let person = users::update(&state.services, &auth.0, *id, change).await?;
        Ok(Json(person.into()))
    }
}
