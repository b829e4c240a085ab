//! Database connection: SQLite (WAL, a real pool) or PostgreSQL, migrated at start.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::error::StartupError;

/// How long a request waits for a PostgreSQL connection before it is told
/// the database is unavailable.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long an unused pooled connection stays open: an idle server keeps
/// one (with its SQLite page cache and prepared statements), not the pool.
const IDLE_CONNECTION: Duration = Duration::from_secs(30);

/// Each SQLite connection's page cache, in KiB (SQLite's default is 2 MiB
/// per connection): the feeds are served from memory, and what the pages
/// read is indexed, so a small cache per connection costs no speed.
const SQLITE_CACHE_KIB: u32 = 1024;

/// A pooled PostgreSQL connection unused this long is pinged before it is
/// handed out (one that broke while idle is replaced, unseen); a busy one
/// is not, as sqlx pings every connection when it comes back to the pool
/// anyway. A ping is a round trip: on every hand-out it was a third of
/// what a lone statement costs.
const POSTGRES_PING_IF_IDLE: Duration = Duration::from_secs(1);

/// Opens `url`, applies pending migrations and returns the pool.
pub async fn connect(url: &str, pool_size: u32) -> Result<DatabaseConnection, StartupError> {
    let sqlite = url.starts_with("sqlite:");
    if !sqlite && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(StartupError::Config(format!(
            "unsupported database URL `{}`: use sqlite://FILE?mode=rwc or postgres://USER@HOST/DB",
            redact(url)
        )));
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(pool_size.max(2))
        .min_connections(1)
        .idle_timeout(IDLE_CONNECTION)
        .connect_timeout(Duration::from_secs(10))
        // While PostgreSQL is down a request waits this long for a
        // connection, then gets 503 (`error::outage`); SQLite's waits are for its
        // writer lock, bounded by `busy_timeout`.
        .acquire_timeout(if sqlite {
            Duration::from_secs(10)
        } else {
            POSTGRES_ACQUIRE_TIMEOUT
        })
        .sqlx_logging(false);
    if sqlite {
        // An in-process database has no connection to lose: a ping only
        // sends the request's task to the connection's thread and back.
        options.test_before_acquire(false);
        // WAL lets readers run beside the single writer; busy_timeout makes a
        // writer wait for the lock instead of failing at once.
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
        });
    } else {
        options.test_before_acquire_if_idle_for(POSTGRES_PING_IF_IDLE);
    }
    let db = Database::connect(options)
        .await
        .map_err(|source| StartupError::Connect {
            url: redact(url),
            source,
        })?;
    Migrator::up(&db, None)
        .await
        .map_err(StartupError::Migrate)?;
    db.execute_unprepared("SELECT 1").await?;
    Ok(db)
}

/// Counts every statement sent through `db` and the clones made of it
/// afterwards (`newsfeed_db_statements_total`: with the request count it
/// says what a request costs the database).
pub fn count_statements(db: &mut DatabaseConnection) -> Arc<AtomicU64> {
    let statements = Arc::new(AtomicU64::new(0));
    let counted = statements.clone();
    db.set_metric_callback(move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
    });
    statements
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// A work queue's rows nobody holds: never claimed, or their claim ran out.
pub fn unclaimed<C: sea_orm::ColumnTrait>(claimed_until: C, now: i64) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(claimed_until.is_null())
        .add(claimed_until.lt(now))
}

/// Claims for one worker, until `until`, the rows of entity `E` that the
/// `chosen` query (selecting their `id`) picks, in one statement, and
/// returns them by id: rows another worker took at the same moment are not
/// returned. On PostgreSQL workers claiming at once take different rows
/// instead of waiting for each other's (SQLite has one writer anyway).
pub async fn claim<E>(
    db: &DatabaseConnection,
    mut chosen: sea_orm::sea_query::SelectStatement,
    id: E::Column,
    claimed_until: E::Column,
    until: i64,
    now: i64,
) -> Result<Vec<E::Model>, sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::FromQueryResult,
{
    use sea_orm::ColumnTrait as _;
    use sea_orm::sea_query::{LockBehavior, LockType, Query};
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        chosen.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut update = Query::update();
    update
        .table(E::default())
        .value(claimed_until, until)
        .and_where(id.in_subquery(chosen))
        // Checked again on the row itself: another worker may have claimed it since.
        .cond_where(unclaimed(claimed_until, now))
        .returning_all();
    let rows = db
        .query_all_raw(db.get_database_backend().build(&update))
        .await?;
    rows.iter()
        .map(|row| <E::Model as sea_orm::FromQueryResult>::from_query_result(row, ""))
        .collect()
}
