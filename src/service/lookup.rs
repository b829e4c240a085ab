//! Finding groups and people by the names clients use for them, in one place
//! (every text a client sends may hold characters no stored name has).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::media;
use crate::domain::user::email_key;
use crate::entities::{entry, group, media as media_row, user};
use crate::error::{AppError, AppResult};

/// PostgreSQL refuses NUL in a query parameter, and no stored name holds one.
fn searchable(text: &str) -> bool {
    !text.contains('\0')
}

/// The group with `slug`, whatever its status.
pub async fn group_by_slug(db: &impl ConnectionTrait, slug: &str) -> AppResult<group::Model> {
    if !searchable(slug) {
        return Err(AppError::not_found("group"));
    }
    group::Entity::find()
        .filter(group::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("group"))
}

/// The group an entry belongs to, if the entry exists.
pub async fn group_of_entry(
    db: &impl ConnectionTrait,
    entry_id: i64,
) -> AppResult<Option<group::Model>> {
    let Some(entry) = entry::Entity::find_by_id(entry_id).one(db).await? else {
        return Ok(None);
    };
    Ok(group::Entity::find_by_id(entry.group_id).one(db).await?)
}

/// The person with `email` (compared in its normalized form), if any.
pub async fn user_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<user::Model>> {
    if !searchable(email) {
        return Ok(None);
    }
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email_key(email)))
        .one(db)
        .await?)
}

/// The person with `id`.
pub async fn user_by_id(db: &impl ConnectionTrait, id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

/// Refuses an image path of ours (`/media/<hash>.jpg`) that names no stored picture.
pub async fn require_stored_picture(db: &impl ConnectionTrait, image: &str) -> AppResult<()> {
    let Some(hash) = media::hash_of(image) else {
        return Ok(());
    };
    match media_row::Entity::find_by_id(hash).one(db).await? {
        Some(_) => Ok(()),
        None => Err(AppError::field(
            "image",
            "no stored picture has this path; upload the picture instead",
        )),
    }
}
