use sea_orm::entity::prelude::*;

use crate::domain::GroupStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub country: String,
    /// ISO 639-1 codes, comma-separated, main one first; empty: the country's.
    pub languages: String,
    pub website: String,
    pub contact: String,
    pub status: GroupStatus,
    /// Followable from the fediverse (set by owners and admins).
    pub federated: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
