use sea_orm::entity::prelude::*;

use crate::domain::{MailKind, OutboxStatus};

/// A mail waiting to be sent, or what became of it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: MailKind,
    pub recipient: String,
    pub user_id: Option<i64>,
    pub language: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Pending rows with the same key go out as one digest.
    pub digest_key: Option<String>,
    /// What the mail is about (JSON), for digests.
    pub data: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub claimed_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
