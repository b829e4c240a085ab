//! Search: indexes of entries (the words of the published and the working
//! revision: title, text without markup, place), groups (name, slug,
//! country) and people (name, email), for the `q` of the lists.
//!
//! The entries' words are stored by the service (`live_search`, new
//! `working_search`: lower case, letters and digits, single spaces; the
//! markup is gone before the database sees them); existing rows get theirs
//! here. PostgreSQL indexes with GIN indexes of `to_tsvector('simple', …)`:
//! entries are written in every language, so words are not stemmed by one
//! language's rules. SQLite with FTS5 tables (filled here), which triggers
//! do not write themselves: a statement that writes an FTS5 table inside a
//! transaction does not wait for another writer's lock but fails at once
//! ("database is locked"). The triggers only note the rows written
//! (`search_dirty`); the service indexes them again before it searches,
//! in a transaction of its own (`service::search::refresh`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text_null;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::m0010_events::without_markup;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An FTS5 index of some columns of a table, by its rowid `id`.
struct Indexed {
    table: &'static str,
    columns: &'static [&'static str],
}

const INDEXED: [Indexed; 3] = [
    Indexed {
        table: "entries",
        columns: &["live_search", "working_search"],
    },
    Indexed {
        table: "groups",
        columns: &["name", "slug", "country"],
    },
    Indexed {
        table: "users",
        columns: &["display_name", "email"],
    },
];

/// PostgreSQL's indexes: name, table, indexed expression (the service
/// searches with the same expressions, so that they use these indexes).
const POSTGRES_INDEXES: [(&str, &str, &str); 4] = [
    (
        "entries_live_search_fts",
        "entries",
        "to_tsvector('simple', coalesce(live_search, ''))",
    ),
    (
        "entries_working_search_fts",
        "entries",
        "to_tsvector('simple', coalesce(working_search, ''))",
    ),
    (
        "groups_search_fts",
        "groups",
        "to_tsvector('simple', regexp_replace(name || ' ' || slug || ' ' || country, '[[:punct:]]+', ' ', 'g'))",
    ),
    (
        "users_search_fts",
        "users",
        "to_tsvector('simple', regexp_replace(display_name || ' ' || email, '[[:punct:]]+', ' ', 'g'))",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("entries")
                    .add_column(text_null("working_search"))
                    .to_owned(),
            )
            .await?;
        fill_words(manager).await?;
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                db.execute_unprepared(
                    "CREATE TABLE search_dirty (tbl TEXT NOT NULL, id INTEGER NOT NULL, \
                     PRIMARY KEY (tbl, id))",
                )
                .await?;
                for indexed in &INDEXED {
                    for statement in indexed.create() {
                        db.execute_unprepared(&statement).await?;
                    }
                }
            }
            _ => {
                for (name, table, expression) in POSTGRES_INDEXES {
                    db.execute_unprepared(&format!(
                        "CREATE INDEX {name} ON \"{table}\" USING GIN (({expression}))"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                for indexed in &INDEXED {
                    for event in ["ix", "ux", "dx"] {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS {}_fts_{event}",
                            indexed.table
                        ))
                        .await?;
                    }
                    db.execute_unprepared(&format!("DROP TABLE IF EXISTS {}_fts", indexed.table))
                        .await?;
                }
                db.execute_unprepared("DROP TABLE IF EXISTS search_dirty")
                    .await?;
            }
            _ => {
                for (name, _, _) in POSTGRES_INDEXES {
                    db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                        .await?;
                }
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table("entries")
                    .drop_column("working_search")
                    .to_owned(),
            )
            .await
    }
}

impl Indexed {
    /// The FTS5 table filled with the rows there are, and the triggers
    /// that mark a written row for the service to index again.
    fn create(&self) -> Vec<String> {
        let (table, columns) = (self.table, self.columns.join(", "));
        let fts = format!("{table}_fts");
        let mark = |name: &str, event: &str, row: &str| {
            format!(
                "CREATE TRIGGER {fts}_{name} AFTER {event} ON \"{table}\" BEGIN \
                 INSERT OR IGNORE INTO search_dirty (tbl, id) VALUES ('{table}', {row}.id); END"
            )
        };
        vec![
            format!("CREATE VIRTUAL TABLE {fts} USING fts5({columns})"),
            format!("INSERT INTO {fts} (rowid, {columns}) SELECT id, {columns} FROM \"{table}\""),
            mark("ix", "INSERT", "new"),
            mark("ux", &format!("UPDATE OF {columns}"), "new"),
            mark("dx", "DELETE", "old"),
        ]
    }
}

/// The words of `parts`: runs of letters and digits in lower case, single
/// spaces between them, as `domain::search::document` writes them from now
/// on (which this crate cannot call).
fn words(parts: &[&str]) -> String {
    parts
        .iter()
        .flat_map(|part| part.split(|character: char| !character.is_alphanumeric()))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every entry's words: of its working revision, and of its published one
/// (whose text `m0010_events` stored without markup, lines apart).
async fn fill_words(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, title, content, location_name, live_search FROM entries ORDER BY id",
        ))
        .await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let title: String = row.try_get("", "title")?;
        let content: String = row.try_get("", "content")?;
        let place: Option<String> = row.try_get("", "location_name")?;
        let live: Option<String> = row.try_get("", "live_search")?;
        let working = words(&[
            &title,
            // A tag separates words (`</p><p>`), as in `search_text`.
            &without_markup(&content.replace('>', "> ")),
            place.as_deref().unwrap_or_default(),
        ]);
        manager
            .exec_stmt(
                Query::update()
                    .table("entries")
                    .value("working_search", working)
                    .value("live_search", live.map(|live| words(&[&live])))
                    .and_where(Expr::col("id").eq(id))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}
