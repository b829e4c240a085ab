//! Audience statistics of the QGIS feed: requests per day and per value of
//! one dimension (QGIS version, OS, country, language), added up by the
//! server's flush. No address, cookie or per-request row. And the
//! moderators assigned to review an entry.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("feed_daily_stats")
                    // `YYYY-MM-DD` (UTC): sorts and compares as a date on both backends.
                    .col(string("day"))
                    .col(string("dimension"))
                    .col(string("value"))
                    .col(big_integer("requests"))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("day"))
                            .col(Alias::new("dimension"))
                            .col(Alias::new("value")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("entry_reviewers")
                    .col(big_integer("entry_id"))
                    .col(big_integer("user_id"))
                    .col(big_integer_null("assigned_by"))
                    .col(big_integer("assigned_at"))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("entry_id"))
                            .col(Alias::new("user_id")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_entry_reviewers_entry_id")
                            .from(Alias::new("entry_reviewers"), Alias::new("entry_id"))
                            .to(Alias::new("entries"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_entry_reviewers_user_id")
                            .from(Alias::new("entry_reviewers"), Alias::new("user_id"))
                            .to(Alias::new("users"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // "Assigned to me": the queue looks entries up by reviewer.
        manager
            .create_index(
                Index::create()
                    .name("ix_entry_reviewers_user_id")
                    .table(Alias::new("entry_reviewers"))
                    .col(Alias::new("user_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("entry_reviewers").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("feed_daily_stats").to_owned())
            .await
    }
}
