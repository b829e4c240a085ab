//! Unsaved entry forms, kept while someone types (saved every 30 s by the
//! page's script) so that closing the tab loses nothing. One row per person
//! and form; a draft is not an edit: entries and their history are untouched
//! until the form is saved.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_initial::{foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("form_drafts")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    // `entry:<id>` or `new:<kind>`.
                    .col(string("form_key"))
                    // JSON object of the form's fields as typed.
                    .col(text("fields"))
                    .col(big_integer("saved_at"))
                    .foreign_key(&mut foreign_key("form_drafts", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("form_drafts", &["user_id", "form_key"], true))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("form_drafts").to_owned())
            .await
    }
}
