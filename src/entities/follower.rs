use sea_orm::entity::prelude::*;

/// A fediverse account following one of our actors.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "followers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The actor followed: `site` or `group:<id>`.
    pub actor: String,
    /// The follower's actor IRI.
    pub remote_actor: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
