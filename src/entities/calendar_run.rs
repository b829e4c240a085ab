use sea_orm::entity::prelude::*;

/// One run of a subscription: what it fetched and did.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subscription_id: i64,
    pub started_at: i64,
    pub fetched: bool,
    pub new_count: i32,
    pub updated_count: i32,
    pub cancelled_count: i32,
    /// One problem a line; empty when none.
    pub errors: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
