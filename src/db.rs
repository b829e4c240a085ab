//! Database connection: SQLite (WAL, a real pool) or PostgreSQL, migrated at start.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::error::StartupError;

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
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if sqlite {
        // WAL lets readers run beside the single writer; busy_timeout makes a
        // writer wait for the lock instead of failing at once.
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
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
