//! The moderation queue's length kept as a counter per group
//! (`groups.pending_count`), written by triggers in the transaction that
//! moves an entry into or out of `pending`, so the queue, the moderators'
//! badge and `/metrics` read a few group rows instead of counting every
//! pending entry on each request. Triggers rather than the service: every
//! path that writes an entry's status (submissions, decisions, imports,
//! calendar runs, deletes) keeps the counter right without knowing of it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counter moves only when an entry enters or leaves `pending` (or,
/// pending, changes group); any other update leaves the group row alone.
const SQLITE_TRIGGERS: [&str; 3] = [
    "CREATE TRIGGER entries_pending_ix AFTER INSERT ON entries WHEN new.status = 'pending' BEGIN \
     UPDATE \"groups\" SET pending_count = pending_count + 1 WHERE id = new.group_id; END",
    "CREATE TRIGGER entries_pending_ux AFTER UPDATE OF status, group_id ON entries \
     WHEN (old.status = 'pending' OR new.status = 'pending') \
     AND (old.status IS NOT new.status OR old.group_id IS NOT new.group_id) BEGIN \
     UPDATE \"groups\" SET pending_count = pending_count - 1 \
     WHERE id = old.group_id AND old.status = 'pending'; \
     UPDATE \"groups\" SET pending_count = pending_count + 1 \
     WHERE id = new.group_id AND new.status = 'pending'; END",
    "CREATE TRIGGER entries_pending_dx AFTER DELETE ON entries WHEN old.status = 'pending' BEGIN \
     UPDATE \"groups\" SET pending_count = pending_count - 1 WHERE id = old.group_id; END",
];

const POSTGRES_TRIGGERS: [&str; 4] = [
    "CREATE FUNCTION entries_pending_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP <> 'INSERT' AND OLD.status = 'pending' THEN \
     UPDATE \"groups\" SET pending_count = pending_count - 1 WHERE id = OLD.group_id; END IF; \
     IF TG_OP <> 'DELETE' AND NEW.status = 'pending' THEN \
     UPDATE \"groups\" SET pending_count = pending_count + 1 WHERE id = NEW.group_id; END IF; \
     RETURN NULL; END $$",
    "CREATE TRIGGER entries_pending_ix AFTER INSERT ON entries FOR EACH ROW \
     WHEN (NEW.status = 'pending') EXECUTE FUNCTION entries_pending_count()",
    "CREATE TRIGGER entries_pending_ux AFTER UPDATE OF status, group_id ON entries FOR EACH ROW \
     WHEN ((OLD.status = 'pending' OR NEW.status = 'pending') \
     AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.group_id IS DISTINCT FROM NEW.group_id)) \
     EXECUTE FUNCTION entries_pending_count()",
    "CREATE TRIGGER entries_pending_dx AFTER DELETE ON entries FOR EACH ROW \
     WHEN (OLD.status = 'pending') EXECUTE FUNCTION entries_pending_count()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("groups")
                    .add_column(
                        ColumnDef::new("pending_count")
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE \"groups\" SET pending_count = (SELECT COUNT(*) FROM entries \
             WHERE entries.group_id = \"groups\".id AND entries.status = 'pending')",
        )
        .await?;
        let triggers: &[&str] = match db.get_database_backend() {
            DbBackend::Sqlite => &SQLITE_TRIGGERS,
            _ => &POSTGRES_TRIGGERS,
        };
        for statement in triggers {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sqlite = db.get_database_backend() == DbBackend::Sqlite;
        // PostgreSQL names a trigger's table when dropping it; SQLite does not.
        let on = if sqlite { "" } else { " ON entries" };
        for event in ["ix", "ux", "dx"] {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS entries_pending_{event}{on}"
            ))
            .await?;
        }
        if !sqlite {
            db.execute_unprepared("DROP FUNCTION IF EXISTS entries_pending_count()")
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("groups")
                    .drop_column("pending_count")
                    .to_owned(),
            )
            .await
    }
}
