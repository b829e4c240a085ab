use crate::domain::text::Text;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{ApiTags, BearerAuth, Created};
use crate::AppState;
use crate::domain::{GroupRole, Role};
use crate::entities::{group, membership, user};
use crate::error::AppResult;
use crate::service::users::{self, NewUser, UserChange};

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

impl UserOut {
    pub async fn with_memberships(db: &DatabaseConnection, user: user::Model) -> AppResult<Self> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user.id))
            .all(db)
            .await?;
        let groups = group::Entity::find()
            .filter(group::Column::Id.is_in(rows.iter().map(|m| m.group_id)))
            .all(db)
            .await?;
        let memberships = rows
            .iter()
            .filter_map(|m| {
                Some(MembershipOut {
                    group: groups.iter().find(|g| g.id == m.group_id)?.slug.clone(),
                    role: GroupRole::parse(&m.role)?,
                })
            })
            .collect();
        Ok(Self {
            id: user.id,
            email: user.email,
            display_name: user.display_name,
            role: Role::parse(&user.role).unwrap_or(Role::Member),
            disabled: user.disabled,
            memberships,
        })
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
        auth.0.require_admin("manage users")?;
        let body = body.0;
        let user = users::create_user(
            &state.db,
            NewUser {
                email: body.email.into(),
                password: body.password.into(),
                display_name: body.display_name.into(),
                role: body.role,
            },
        )
        .await?;
        Ok(Created::Created(Json(
            UserOut::with_memberships(&state.db, user).await?,
        )))
    }

    /// Everyone, with their memberships (admins only).
    #[oai(path = "/users", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> AppResult<Json<Vec<UserOut>>> {
        auth.0.require_admin("manage users")?;
        let mut people = Vec::new();
        for user in users::list(&state.db).await? {
            people.push(UserOut::with_memberships(&state.db, user).await?);
        }
        Ok(Json(people))
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
        auth.0.require_admin("manage users")?;
        let body = body.0;
        let change = UserChange {
            display_name: body.display_name.map(String::from),
            role: body.role,
            disabled: body.disabled,
        };
        let user = users::update(&state.db, auth.0.user_id(), *id, change).await?;
        Ok(Json(UserOut::with_memberships(&state.db, user).await?))
    }
}
