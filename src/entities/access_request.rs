use sea_orm::entity::prelude::*;

use crate::domain::AccessRequestStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "access_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_name: String,
    pub slug: String,
    pub country: String,
    pub website: String,
    pub contact_email: String,
    pub message: String,
    pub status: AccessRequestStatus,
    pub decision_comment: Option<String>,
    pub decided_by: Option<i64>,
    pub group_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
