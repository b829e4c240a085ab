//! Images and mail: the stored pictures, the outbox, and who wants which mail.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_initial::{foreign_key, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            // One row per stored picture (`<media dir>/<hash>.jpg`); the sweep
            // removes rows and files no revision uses and not used recently.
            Table::create()
                .table("media")
                .col(string("hash").primary_key())
                .col(big_integer("bytes"))
                .col(integer("width"))
                .col(integer("height"))
                .col(big_integer_null("created_by"))
                .col(big_integer("created_at"))
                .col(big_integer("last_used_at"))
                .to_owned(),
            // Mail written in the transaction of the change that causes it and
            // sent by a worker: nothing is lost when the process stops.
            Table::create()
                .table("outbox")
                .col(big_pk_auto("id"))
                .col(string("kind"))
                .col(string("recipient"))
                .col(big_integer_null("user_id"))
                .col(string("language"))
                .col(string("subject"))
                .col(text("text_body"))
                .col(text("html_body"))
                // Rows with one key are sent together as a digest.
                .col(string_null("digest_key"))
                .col(text("data"))
                .col(string("status"))
                .col(integer("attempts").default(0))
                .col(big_integer("next_attempt_at"))
                // A worker that took the row; others leave it alone until then.
                .col(big_integer_null("claimed_until"))
                .col(text_null("last_error"))
                .col(big_integer("created_at"))
                .col(big_integer_null("sent_at"))
                .to_owned(),
            Table::create()
                .table("mail_preferences")
                .col(big_integer("user_id").primary_key())
                .col(boolean("submissions").default(true))
                .col(boolean("decisions").default(true))
                .col(boolean("access_requests").default(true))
                .col(big_integer("updated_at"))
                .foreign_key(&mut foreign_key("mail_preferences", "user_id", "users"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        for statement in [
            index("outbox", &["status", "next_attempt_at"], false),
            index("outbox", &["digest_key", "status"], false),
            index("media", &["last_used_at"], false),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["mail_preferences", "outbox", "media"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
