use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "web_sessions")]
pub struct Model {
    /// sha256 of the id in the cookie, so the table holds no usable session.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Who is signed in, if anyone; kept beside the entries so that a
    /// person's sessions can be revoked at once.
    pub user_id: Option<i64>,
    /// The session's entries as a JSON object.
    pub entries: String,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
