use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::{ApiTags, BearerAuth, Created};
use crate::AppState;
use crate::domain::{GroupRole, Role};
use crate::entities::{group, membership, user};
use crate::error::{AppError, AppResult};
use crate::service::users::{self, NewUser};

pub struct UsersApi;

#[derive(Object)]
#[oai(deny_unknown_fields)]
struct CreateUser {
    email: String,
    /// 8 to 1024 characters.
    password: String,
    display_name: String,
    role: Role,
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
        if !auth.0.is_admin() {
            return Err(AppError::Forbidden("only admins create users".into()));
        }
        let body = body.0;
        let user = users::create_user(
            &state.db,
            NewUser {
                email: body.email,
                password: body.password,
                display_name: body.display_name,
                role: body.role,
            },
        )
        .await?;
        Ok(Created::Created(Json(
            UserOut::with_memberships(&state.db, user).await?,
        )))
    }
}
