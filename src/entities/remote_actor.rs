use sea_orm::entity::prelude::*;

/// A fediverse actor as last fetched: where to deliver, which key it signs with.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "remote_actors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub iri: String,
    pub key_id: String,
    pub public_key_pem: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub fetched_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
