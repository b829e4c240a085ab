use sea_orm::entity::prelude::*;

/// The RSA key pair an actor (the site, or one group) signs with.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "actor_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `site` or `group:<id>`.
    #[sea_orm(unique)]
    pub actor: String,
    pub public_pem: String,
    pub private_pem: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
