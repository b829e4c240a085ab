//! Everything in the database as JSON lines, and back: the move between
//! SQLite and PostgreSQL, and a backup that any version can read.
//!
//! An export is a header line `{"format": "newsfeed-export", "version": 1}`
//! followed by one line per row, `{"table": "...", "row": {...}}`, tables in
//! the order that satisfies their references. Rows keep their ids (QGIS
//! caches news by `pk`), password hashes and token hashes; an import writes
//! them in one transaction and moves each id sequence past the largest id.

use std::io::{BufRead, Write};

use sea_orm::ModelTrait;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::entities::{
    access_request, account_token, api_token, area, entry, entry_event, entry_reviewer,
    feed_daily_stat, group, mail_preference, media, membership, outbox, user,
};
use crate::error::{AppError, AppResult};

const FORMAT: &str = "newsfeed-export";
const VERSION: u32 = 1;
/// Rows read per query while exporting, and inserted per statement.
const BATCH: u64 = 500;
/// A progress line every this many rows.
const PROGRESS_EVERY: u64 = 10_000;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Serialize)]
struct Line<'a, T> {
    table: &'a str,
    row: &'a T,
}

#[derive(Deserialize)]
struct RawLine {
    table: String,
    row: serde_json::Value,
}

/// How many rows of each table went through, in order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts(pub Vec<(&'static str, u64)>);

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(t, n)| format!("{t} {n}")).collect();
        f.write_str(&parts.join(", "))
    }
}

fn io_error(error: std::io::Error) -> AppError {
    AppError::internal("cannot write the export", error)
}

/// Declares the exported tables, in reference order, as
/// `name: entity [primary key columns]`.
macro_rules! tables {
    ($($name:literal: $entity:ident [$($key:ident),+]),+ $(,)?) => {
        /// Every exported table, in the order an import needs.
        pub const TABLES: &[&str] = &[$($name),+];

        /// Writes every row of every table to `out`; `progress` hears of each
        /// batch as `(table, rows so far)`.
        pub async fn export(
            db: &DatabaseConnection,
            out: &mut impl Write,
            progress: &mut impl FnMut(&str, u64),
        ) -> AppResult<Counts> {
            let header = Header { format: FORMAT.into(), version: VERSION };
            serde_json::to_writer(&mut *out, &header)
                .map_err(|error| AppError::internal("cannot write the export", error))?;
            out.write_all(b"\n").map_err(io_error)?;
            let mut counts = Counts::default();
            $(
                let mut written = 0;
                let mut after: Option<Vec<sea_orm::Value>> = None;
                loop {
                    // By primary key, so every run writes the same lines, and
                    // from the last key, so a large table costs no more per row.
                    let mut query = $entity::Entity::find()
                        $(.order_by_asc($entity::Column::$key))+
                        .limit(BATCH);
                    if let Some(last) = after.take() {
                        query = query.filter(
                            Expr::tuple([$(Expr::col($entity::Column::$key)),+])
                                .gt(Expr::tuple(last.into_iter().map(Expr::val))),
                        );
                    }
                    let rows = query.all(db).await?;
                    for row in &rows {
                        serde_json::to_writer(&mut *out, &Line { table: $name, row })
                            .map_err(|error| AppError::internal("cannot write the export", error))?;
                        out.write_all(b"\n").map_err(io_error)?;
                    }
                    written += rows.len() as u64;
                    after = rows.last().map(|last| vec![$(last.get($entity::Column::$key)),+]);
                    if written % PROGRESS_EVERY < BATCH || (rows.len() as u64) < BATCH {
                        progress($name, written);
                    }
                    if (rows.len() as u64) < BATCH {
                        break;
                    }
                }
                counts.0.push(($name, written));
            )+
            out.flush().map_err(io_error)?;
            Ok(counts)
        }

        /// Reads an export into an empty database, in one transaction.
        pub async fn import(
            db: &DatabaseConnection,
            input: impl BufRead,
            progress: &mut impl FnMut(&str, u64),
        ) -> AppResult<Counts> {
            for table in TABLES {
                let count = db
                    .query_one_raw(Statement::from_string(
                        db.get_database_backend(),
                        format!("SELECT COUNT(*) AS n FROM {table}"),
                    ))
                    .await?
                    .and_then(|row| row.try_get::<i64>("", "n").ok())
                    .unwrap_or(0);
                if count > 0 {
                    return Err(AppError::Conflict(format!(
                        "the database is not empty ({table} has {count} rows): import into a new one"
                    )));
                }
            }
            let txn = db.begin().await?;
            let mut lines = input.lines().enumerate();
            let header = lines
                .next()
                .map(|(_, line)| line)
                .transpose()
                .map_err(|error| AppError::BadRequest(format!("cannot read the export: {error}")))?
                .and_then(|line| serde_json::from_str::<Header>(&line).ok());
            if !header.is_some_and(|h| h.format == FORMAT && h.version == VERSION) {
                return Err(AppError::BadRequest(format!(
                    "not a {FORMAT} version {VERSION} file (its first line says what it is)"
                )));
            }
            let mut counts = Counts(TABLES.iter().map(|table| (*table, 0)).collect());
            $(let mut $entity: Vec<$entity::ActiveModel> = Vec::new();)+
            for (index, line) in lines {
                let number = index + 1;
                let line = line.map_err(|error| {
                    AppError::BadRequest(format!("line {number}: cannot read: {error}"))
                })?;
                if line.trim().is_empty() {
                    continue;
                }
                let raw: RawLine = serde_json::from_str(&line).map_err(|error| {
                    AppError::BadRequest(format!("line {number}: {error}"))
                })?;
                match raw.table.as_str() {
                    $($name => {
                        let row: $entity::Model = serde_json::from_value(raw.row).map_err(|error| {
                            AppError::BadRequest(format!("line {number}: {}: {error}", $name))
                        })?;
                        $entity.push(row.into_active_model());
                        if $entity.len() as u64 >= BATCH {
                            $entity::Entity::insert_many(std::mem::take(&mut $entity)).exec(&txn).await?;
                        }
                        let slot = counts.0.iter_mut().find(|(table, _)| *table == $name);
                        if let Some((table, count)) = slot {
                            *count += 1;
                            if *count % PROGRESS_EVERY == 0 {
                                progress(table, *count);
                            }
                        }
                    })+
                    other => {
                        return Err(AppError::BadRequest(format!(
                            "line {number}: unknown table {other:?}"
                        )));
                    }
                }
            }
            // Tables come in reference order, so flushing in that order keeps references valid.
            $(
                if !$entity.is_empty() {
                    $entity::Entity::insert_many(std::mem::take(&mut $entity)).exec(&txn).await?;
                }
            )+
            // Tables keyed by a generated `id` continue above the imported ones.
            $(
                if stringify!($($key),+) == "Id" {
                    move_sequence(&txn, $name).await?;
                }
            )+
            super::users::fill_missing_skeletons(&txn).await?;
            txn.commit().await?;
            for (table, count) in &counts.0 {
                progress(table, *count);
            }
            Ok(counts)
        }
    };
}

tables! {
    "users": user [Id],
    "groups": group [Id],
    "areas": area [Id],
    "memberships": membership [Id],
    "api_tokens": api_token [Id],
    "account_tokens": account_token [Id],
    "access_requests": access_request [Id],
    "media": media [Hash],
    "entries": entry [Id],
    "entry_events": entry_event [Id],
    "entry_reviewers": entry_reviewer [EntryId, UserId],
    "mail_preferences": mail_preference [UserId],
    "outbox": outbox [Id],
    "feed_daily_stats": feed_daily_stat [Day, Dimension, Value],
}

/// New rows continue above the largest imported id. (SQLite's AUTOINCREMENT
/// follows explicit ids by itself; PostgreSQL's sequences do not.)
pub(super) async fn move_sequence(db: &impl ConnectionTrait, table: &str) -> AppResult<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    db.execute_unprepared(&format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
         COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
    ))
    .await?;
    Ok(())
}

/// A consistent copy of a SQLite database in `path`, taken while it serves
/// (`VACUUM INTO`). PostgreSQL has `pg_dump` for this.
pub async fn backup(db: &DatabaseConnection, path: &std::path::Path) -> AppResult<()> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Err(AppError::Conflict(
            "backup copies SQLite databases; for PostgreSQL use pg_dump (see the README)".into(),
        ));
    }
    if path.exists() {
        return Err(AppError::Conflict(format!(
            "{} exists already: name a new file",
            path.display()
        )));
    }
    let target = path.to_string_lossy().into_owned();
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await?;
    Ok(())
}
