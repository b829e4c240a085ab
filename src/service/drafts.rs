//! Unsaved entry forms kept while someone types: one row per person and
//! form, replaced by each autosave, removed when the form is saved or the
//! draft discarded. Nothing here touches an entry or its history.

use std::collections::BTreeMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::Services;
use crate::domain::draft::{DraftKey, MAX_DRAFTS_PER_PERSON};
use crate::entities::form_draft::{self, Column, Entity};
use crate::error::{AppError, AppResult};

/// A kept form: its fields as typed and when they were saved.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub fields: BTreeMap<String, String>,
    pub saved_at: i64,
}

/// Keeps `fields` as `user_id`'s draft of form `key` (replacing the last
/// one); a person's oldest drafts beyond the limit are dropped.
pub async fn save(
    services: &Services,
    user_id: i64,
    key: DraftKey,
    fields: &BTreeMap<String, String>,
) -> AppResult<i64> {
    let saved_at = services.now();
    let text = serde_json::to_string(fields)
        .map_err(|error| AppError::internal("cannot store the draft", error))?;
    Entity::insert(form_draft::ActiveModel {
        user_id: Set(user_id),
        form_key: Set(key.to_string()),
        fields: Set(text),
        saved_at: Set(saved_at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([Column::UserId, Column::FormKey])
            .update_columns([Column::Fields, Column::SavedAt])
            .to_owned(),
    )
    .exec(&services.db)
    .await?;
    let kept = Entity::find()
        .filter(Column::UserId.eq(user_id))
        .count(&services.db)
        .await?;
    if kept > MAX_DRAFTS_PER_PERSON {
        let oldest: Vec<i64> = Entity::find()
            .filter(Column::UserId.eq(user_id))
            .order_by_asc(Column::SavedAt)
            .order_by_asc(Column::Id)
            .limit(kept - MAX_DRAFTS_PER_PERSON)
            .all(&services.db)
            .await?
            .into_iter()
            .map(|draft| draft.id)
            .collect();
        Entity::delete_many()
            .filter(Column::Id.is_in(oldest))
            .exec(&services.db)
            .await?;
    }
    Ok(saved_at)
}

/// `user_id`'s draft of form `key`, if one is kept.
pub async fn find(services: &Services, user_id: i64, key: DraftKey) -> AppResult<Option<Draft>> {
    let Some(row) = Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::FormKey.eq(key.to_string()))
        .one(&services.db)
        .await?
    else {
        return Ok(None);
    };
    // A draft that no longer reads is as good as none.
    Ok(serde_json::from_str(&row.fields).ok().map(|fields| Draft {
        fields,
        saved_at: row.saved_at,
    }))
}

/// Drops `user_id`'s draft of form `key` (saved, or discarded).
pub async fn discard(services: &Services, user_id: i64, key: DraftKey) -> AppResult<()> {
    Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::FormKey.eq(key.to_string()))
        .exec(&services.db)
        .await?;
    Ok(())
}
