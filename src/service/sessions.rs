//! Server-side sessions of the web pages, kept in the database so that any
//! instance can serve any request and a person's sessions can be revoked at
//! once (logout, password change, disabling). Ids are stored as sha256.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use super::Services;
use super::tokens::sha256_hex;
use crate::entities::web_session;
use crate::error::{AppError, AppResult};

/// The session entry that names the signed-in person.
pub const USER_KEY: &str = "user_id";

/// The entries of a session that has not expired.
pub async fn load(services: &Services, id: &str) -> AppResult<Option<BTreeMap<String, Value>>> {
    let Some(row) = web_session::Entity::find_by_id(sha256_hex(id))
        .one(&services.db)
        .await?
    else {
        return Ok(None);
    };
    if row.expires_at <= services.now() {
        remove(services, id).await?;
        return Ok(None);
    }
    serde_json::from_str(&row.entries)
        .map(Some)
        .map_err(|error| AppError::internal("unreadable session", error))
}

/// Stores a new session; it expires `ttl_secs` from now. Creating one also
/// clears expired sessions, so the table does not grow without bound.
pub async fn create(
    services: &Services,
    id: &str,
    entries: &BTreeMap<String, Value>,
    ttl_secs: i64,
) -> AppResult<()> {
    let now = services.now();
    web_session::Entity::insert(web_session::ActiveModel {
        id: Set(sha256_hex(id)),
        user_id: Set(entries.get(USER_KEY).and_then(Value::as_i64)),
        entries: Set(serialize(entries)?),
        expires_at: Set(now.saturating_add(ttl_secs)),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(&services.db)
    .await?;
    web_session::Entity::delete_many()
        .filter(web_session::Column::ExpiresAt.lte(now))
        .exec(&services.db)
        .await?;
    Ok(())
}

/// Writes the entries of a session that was loaded, only while its row still
/// exists: a request that loaded it before a sign-out or a password change
/// ended it cannot bring it back by writing afterwards.
pub async fn update(
    services: &Services,
    id: &str,
    entries: &BTreeMap<String, Value>,
    ttl_secs: i64,
) -> AppResult<()> {
    let now = services.now();
    web_session::Entity::update_many()
        .col_expr(
            web_session::Column::UserId,
            entries.get(USER_KEY).and_then(Value::as_i64).into(),
        )
        .col_expr(web_session::Column::Entries, serialize(entries)?.into())
        .col_expr(
            web_session::Column::ExpiresAt,
            now.saturating_add(ttl_secs).into(),
        )
        .col_expr(web_session::Column::UpdatedAt, now.into())
        .filter(web_session::Column::Id.eq(sha256_hex(id)))
        .exec(&services.db)
        .await?;
    Ok(())
}

fn serialize(entries: &BTreeMap<String, Value>) -> AppResult<String> {
    serde_json::to_string(entries)
        .map_err(|error| AppError::internal("cannot store the session", error))
}

pub async fn remove(services: &Services, id: &str) -> AppResult<()> {
    web_session::Entity::delete_by_id(sha256_hex(id))
        .exec(&services.db)
        .await?;
    Ok(())
}

/// Ends every session of `user_id` (password changed or reset, account disabled).
pub async fn revoke_user(db: &impl ConnectionTrait, user_id: i64) -> AppResult<()> {
    web_session::Entity::delete_many()
        .filter(web_session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
