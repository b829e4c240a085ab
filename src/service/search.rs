//! Search in the database, through its full-text indexes (`m0012_search`):
//! SQLite's FTS5 tables, PostgreSQL's GIN indexes of `to_tsvector('simple',
//! …)` ('simple': entries come in every language, so no language's
//! stemming). The query reaches the database as bound parameters made of
//! plain words (`domain::search`), never as SQL or query syntax of its own.
//!
//! Each word must match. An entry matches a word in its own words or in
//! its group's (name, slug, country), so "berlin meetup" finds the meetups
//! of the Berlin group.

use std::collections::HashSet;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

use super::Services;
use crate::domain::search::SearchQuery;
use crate::entities::entry;
use crate::error::AppResult;

/// SQLite's FTS5 tables: each indexes these columns of a table, by id.
const SQLITE_INDEXED: [(&str, &str); 3] = [
    ("entries", "live_search, working_search"),
    ("groups", "name, slug, country"),
    ("users", "display_name, email"),
];

/// On SQLite, indexes again the rows written since the last search (which
/// triggers note in `search_dirty`; see `m0012_search` for why they do not
/// index them themselves), in one transaction that holds the write lock
/// from its start. Nothing to do on PostgreSQL, whose indexes follow the rows.
pub async fn refresh(db: &DatabaseConnection) -> AppResult<()> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Sqlite {
        return Ok(());
    }
    let dirty = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT 1 FROM search_dirty LIMIT 1",
        ))
        .await?;
    if dirty.is_none() {
        return Ok(());
    }
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    for (table, columns) in SQLITE_INDEXED {
        let written = format!("SELECT id FROM search_dirty WHERE tbl = '{table}'");
        txn.execute_unprepared(&format!(
            "DELETE FROM {table}_fts WHERE rowid IN ({written})"
        ))
        .await?;
        txn.execute_unprepared(&format!(
            "INSERT INTO {table}_fts (rowid, {columns}) SELECT id, {columns} FROM \"{table}\" \
             WHERE id IN ({written})"
        ))
        .await?;
    }
    txn.execute_unprepared("DELETE FROM search_dirty").await?;
    txn.commit().await?;
    Ok(())
}

/// Which revision of an entry a search reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revision {
    /// What is (or was) published: the public pages.
    Published,
    /// What is being worked on or reviewed: the moderation queue, an
    /// editor's list, the API.
    Working,
}

impl Revision {
    fn column(self) -> &'static str {
        match self {
            Self::Published => "live_search",
            Self::Working => "working_search",
        }
    }
}

/// The indexed text of a group and of a person on PostgreSQL (the same
/// expressions as the indexes, so that these are used): punctuation
/// separates words as it does in a query (`anna@example.org`).
const PG_GROUP_TEXT: &str = "to_tsvector('simple', regexp_replace(\"groups\".\"name\" || ' ' || \"groups\".\"slug\" || ' ' || \"groups\".\"country\", '[[:punct:]]+', ' ', 'g'))";
const PG_USER_TEXT: &str = "to_tsvector('simple', regexp_replace(\"users\".\"display_name\" || ' ' || \"users\".\"email\", '[[:punct:]]+', ' ', 'g'))";

/// A condition nothing meets (a query of punctuation only).
fn nothing() -> Condition {
    Condition::all().add(Expr::cust("1 = 0"))
}

/// Rows of `table` whose indexed text holds every word of `query`.
fn rows_matching(backend: DbBackend, query: &SearchQuery, table: &str, pg_text: &str) -> Condition {
    if query.is_void() {
        return nothing();
    }
    let expression = match backend {
        DbBackend::Sqlite => Expr::cust_with_values(
            format!(
                "\"{table}\".\"id\" IN (SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ?)"
            ),
            [query.fts5_terms(&[]).join(" ")],
        ),
        _ => Expr::cust_with_values(
            format!("{pg_text} @@ to_tsquery('simple', $1)"),
            [query.tsquery_terms().join(" & ")],
        ),
    };
    Condition::all().add(expression)
}

/// Groups whose name, slug or country holds every word of `query`.
pub fn groups_matching(backend: DbBackend, query: &SearchQuery) -> Condition {
    rows_matching(backend, query, "groups", PG_GROUP_TEXT)
}

/// People whose name or email holds every word of `query`.
pub fn users_matching(backend: DbBackend, query: &SearchQuery) -> Condition {
    rows_matching(backend, query, "users", PG_USER_TEXT)
}

/// Entries whose words (of `revision`) or group's hold every word of `query`.
pub fn entries_matching(backend: DbBackend, query: &SearchQuery, revision: Revision) -> Condition {
    if query.is_void() {
        return nothing();
    }
    let column = revision.column();
    let mut condition = Condition::all();
    match backend {
        DbBackend::Sqlite => {
            let own = query.fts5_terms(&[column]);
            let group = query.fts5_terms(&[]);
            for (own, group) in own.into_iter().zip(group) {
                condition = condition.add(Expr::cust_with_values(
                    "(\"entries\".\"id\" IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?) \
                     OR \"entries\".\"group_id\" IN (SELECT rowid FROM groups_fts WHERE groups_fts MATCH ?))",
                    [own, group],
                ));
            }
        }
        _ => {
            for term in query.tsquery_terms() {
                condition = condition.add(Expr::cust_with_values(
                    format!(
                        "(to_tsvector('simple', coalesce(\"entries\".\"{column}\", '')) @@ to_tsquery('simple', $1) \
                         OR \"entries\".\"group_id\" IN (SELECT \"groups\".\"id\" FROM \"groups\" WHERE {PG_GROUP_TEXT} @@ to_tsquery('simple', $1)))"
                    ),
                    [term],
                ));
            }
        }
    }
    condition
}

/// The ids of the published entries (in the feeds now) that match `query`:
/// the pages built from the feed snapshot keep those.
pub async fn published_ids(services: &Services, query: &SearchQuery) -> AppResult<HashSet<i64>> {
    let db = &services.db;
    refresh(db).await?;
    let ids: Vec<i64> = entry::Entity::find()
        .select_only()
        .column(entry::Column::Id)
        .filter(entry::Column::InFeed.eq(true))
        .filter(entries_matching(
            db.get_database_backend(),
            query,
            Revision::Published,
        ))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}
