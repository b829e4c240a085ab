use sea_orm::entity::prelude::*;

/// What a published entry was last sent to the fediverse as (the row goes
/// when its `Delete` is sent, so the table holds only what is live).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "federated_posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub entry_id: i64,
    /// Hash of the object last sent (an `Update` goes out when it changes).
    pub object_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
