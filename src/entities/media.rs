use sea_orm::entity::prelude::*;

/// A stored picture: `<media dir>/<hash>.jpg`, served at `/media/<hash>.jpg`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "media")]
pub struct Model {
    /// SHA-256 of the JPEG bytes, in hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    pub bytes: i64,
    pub width: i32,
    pub height: i32,
    pub created_by: Option<i64>,
    pub created_at: i64,
    /// Last upload of these bytes: the sweep spares recently used files.
    pub last_used_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
