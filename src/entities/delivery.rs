use sea_orm::entity::prelude::*;

use crate::domain::{DeliveryKind, DeliveryStatus};

/// One request to send to another server (an inbox, a WebSub hub), or what became of it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: DeliveryKind,
    /// The inbox or hub URL.
    pub target: String,
    /// The actor whose key signs it (`site`, `group:<id>`), if any.
    pub actor: Option<String>,
    pub body: String,
    pub entry_id: Option<i64>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub claimed_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
