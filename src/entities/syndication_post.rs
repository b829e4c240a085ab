use sea_orm::entity::prelude::*;

use crate::domain::PostStatus;

/// What an entry became on one account: the text sent, the remote post or the error.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "syndication_posts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub entry_id: i64,
    pub text: String,
    pub status: PostStatus,
    /// The network's id of the post (a status id, an `at://` URI, a message id).
    pub remote_id: Option<String>,
    pub url: Option<String>,
    pub last_error: Option<String>,
    /// The delivery that sends (or deletes) it now.
    pub delivery_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
