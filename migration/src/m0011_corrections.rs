//! Corrections: a moderator may approve an edit of a live entry without
//! QGIS clients being sent it again. The published revision (`live`, JSON)
//! now says when they were last told of it (`notified_at`); until now that
//! was every change of it, so it starts as `live_changed_at`. (Rows the
//! QGIS-Feed import writes later have none: their `modified` stands in,
//! and a missing `publish_from` stays missing.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT id, live, live_changed_at, updated_at FROM entries \
                 WHERE live IS NOT NULL ORDER BY id",
            ))
            .await?;
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let live: String = row.try_get("", "live")?;
            let changed_at: Option<i64> = row.try_get("", "live_changed_at")?;
            let updated_at: i64 = row.try_get("", "updated_at")?;
            let mut revision: serde_json::Value = serde_json::from_str(&live)
                .map_err(|error| DbErr::Migration(format!("entry {id}: {error}")))?;
            let Some(object) = revision.as_object_mut() else {
                return Err(DbErr::Migration(format!(
                    "entry {id}: live is not an object"
                )));
            };
            object.insert(
                "notified_at".into(),
                changed_at.unwrap_or(updated_at).into(),
            );
            manager
                .exec_stmt(
                    Query::update()
                        .table("entries")
                        .value("live", revision.to_string())
                        .and_where(Expr::col("id").eq(id))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The key is ignored by older versions.
        Ok(())
    }
}
