//! A group's languages (ISO 639-1, comma-separated, main one first): what its
//! new entries default to. Empty means the languages of its country, so
//! existing groups need no backfill and follow the country table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("groups")
                    .add_column(string("languages").default(""))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("groups")
                    .drop_column("languages")
                    .to_owned(),
            )
            .await
    }
}
