use sea_orm::entity::prelude::*;

use crate::domain::EntryKind;

/// A calendar a group keeps elsewhere, fetched on a schedule (or a one-off
/// file import, with an empty `url`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_id: i64,
    pub url: String,
    /// The kind of the entries its events become.
    pub kind: EntryKind,
    /// The owner's wish to approve its events at once.
    pub auto_approve: bool,
    /// The admin who allowed that; without one, events go to review.
    pub auto_approve_allowed_by: Option<i64>,
    pub created_by: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_fetch_at: Option<i64>,
    pub claimed_until: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
