use sea_orm::entity::prelude::*;

/// An entry form as someone was typing it, kept until they save it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "form_drafts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `entry:<id>` or `new:<kind>`.
    pub form_key: String,
    /// JSON object of the fields as typed.
    pub fields: String,
    pub saved_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
