//! Corrections: a moderator may approve an edit of a live entry without
//! QGIS clients being sent it again. `live_notified_at` is when they were
//! last told of the published revision; until now that was every change
//! of it, so it starts as `live_changed_at`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMN: &str = "live_notified_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("entries")
                    .add_column(big_integer_null(COLUMN))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table("entries")
                    .value(COLUMN, Expr::col("live_changed_at"))
                    .and_where(Expr::col("live").is_not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("entries")
                    .drop_column(Alias::new(COLUMN))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
