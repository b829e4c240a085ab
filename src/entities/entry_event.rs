use sea_orm::entity::prelude::*;

use crate::domain::{Action, EntryStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "entry_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entry_id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    pub actor_name: String,
    pub action: Action,
    pub from_status: Option<EntryStatus>,
    pub to_status: Option<EntryStatus>,
    pub comment: Option<String>,
    /// JSON object of changed fields: `{field: [old, new]}`.
    pub changes: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
