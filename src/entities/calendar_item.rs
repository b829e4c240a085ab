use sea_orm::entity::prelude::*;

/// A source event (by UID) and the entry it became.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subscription_id: i64,
    pub uid: String,
    pub entry_id: i64,
    /// Hash of the source's last version of the event.
    pub source_hash: String,
    /// That version's entry fields (JSON).
    pub source_fields: String,
    /// Hash of the entry's working revision as the last sync left it.
    pub entry_hash: String,
    /// Edited here since a sync: the source's changes are offered for review.
    pub edited_here: bool,
    /// Gone from the source (its entry was cancelled).
    pub gone: bool,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
