//! Saved target areas: named polygons that moderators keep and entries
//! refer to, so one edit of an area moves every entry that uses it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m0001_initial::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("areas")
                    .col(big_pk_auto("id"))
                    .col(string("name"))
                    .col(string("description"))
                    // JSON array of `[lon, lat]` pairs, as `entries.target_area`.
                    .col(text("polygon"))
                    .col(integer("version"))
                    .col(big_integer_null("created_by"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("areas", &["name"], true))
            .await?;
        // The working revision's area, and the published revision's: an area
        // stays while either refers to it. (One column per statement: SQLite.)
        for column in ["target_area_id", "live_target_area_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("entries")
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index("entries", &[column], false))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["live_target_area_id", "target_area_id"] {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("ix_entries_{column}"))
                        .table("entries")
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table("entries")
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("areas").to_owned())
            .await
    }
}
