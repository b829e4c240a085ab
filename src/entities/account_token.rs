use sea_orm::entity::prelude::*;

use crate::domain::TokenPurpose;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "account_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub purpose: TokenPurpose,
    /// sha256 of the secret in the link; the secret itself is never stored.
    pub secret_sha256: String,
    pub user_id: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    /// Set when the link is used: each works once.
    pub used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
