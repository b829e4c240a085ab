//! Moderators assigned to review an entry: they are the ones mailed about
//! its submissions, and their queue can show only what is theirs.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::Services;
use crate::domain::authz::Principal;
use crate::domain::validate::FieldError;
use crate::domain::{Refusal, Role};
use crate::entities::{entry, entry_reviewer, user};
use crate::error::{AppError, AppResult};

/// Most reviewers one entry may have.
const MAX_REVIEWERS: usize = 20;

/// The ids of the people assigned to review `entry_id`, in id order.
pub async fn ids(db: &impl ConnectionTrait, entry_id: i64) -> AppResult<Vec<i64>> {
    Ok(entry_reviewer::Entity::find()
        .filter(entry_reviewer::Column::EntryId.eq(entry_id))
        .order_by_asc(entry_reviewer::Column::UserId)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.user_id)
        .collect())
}

/// The reviewers of `entry_id` (moderators and admins).
pub async fn list(
    services: &Services,
    principal: &Principal,
    entry_id: i64,
) -> AppResult<Vec<user::Model>> {
    require_moderator(principal)?;
    existing_entry(services, entry_id).await?;
    people(&services.db, ids(&services.db, entry_id).await?).await
}

/// Replaces the reviewers of `entry_id` with `user_ids` (each an active
/// moderator or admin); an empty list removes them all.
pub async fn set(
    services: &Services,
    principal: &Principal,
    entry_id: i64,
    mut user_ids: Vec<i64>,
) -> AppResult<Vec<user::Model>> {
    require_moderator(principal)?;
    existing_entry(services, entry_id).await?;
    user_ids.sort_unstable();
    user_ids.dedup();
    if user_ids.len() > MAX_REVIEWERS {
        return Err(invalid(format!("at most {MAX_REVIEWERS} reviewers")));
    }
    let found = people(&services.db, user_ids.clone()).await?;
    if let Some(missing) = user_ids.iter().find(|id| {
        !found.iter().any(|person| {
            person.id == **id
                && !person.disabled
                && matches!(person.role, Role::Moderator | Role::Admin)
        })
    }) {
        return Err(invalid(format!(
            "user {missing} is not an active moderator or admin"
        )));
    }
    let txn = services.db.begin().await?;
    entry_reviewer::Entity::delete_many()
        .filter(entry_reviewer::Column::EntryId.eq(entry_id))
        .exec(&txn)
        .await?;
    if !user_ids.is_empty() {
        let now = services.now();
        entry_reviewer::Entity::insert_many(user_ids.iter().map(|user_id| {
            entry_reviewer::ActiveModel {
                entry_id: Set(entry_id),
                user_id: Set(*user_id),
                assigned_by: Set(Some(principal.attributed_user_id())),
                assigned_at: Set(now),
            }
        }))
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(found)
}

fn require_moderator(principal: &Principal) -> AppResult<()> {
    if principal.is_moderator() {
        Ok(())
    } else {
        Err(Refusal::Forbidden("only moderators assign reviewers".into()).into())
    }
}

async fn existing_entry(services: &Services, entry_id: i64) -> AppResult<()> {
    entry::Entity::find_by_id(entry_id)
        .one(&services.db)
        .await?
        .map(|_| ())
        .ok_or_else(|| AppError::NotFound(format!("no entry {entry_id}")))
}

async fn people(db: &impl ConnectionTrait, ids: Vec<i64>) -> AppResult<Vec<user::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

fn invalid(message: String) -> AppError {
    AppError::Validation(vec![FieldError::new("reviewers", message)])
}
