//! Audience statistics of the QGIS feed: requests per day and per value of
//! one dimension (QGIS version, OS, country, language), added up by the
//! server's flush. No address, cookie or per-request row.

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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("feed_daily_stats").to_owned())
            .await
    }
}
