//! Keeps the feed snapshots of several instances on one PostgreSQL in step:
//! after a live change an instance sends `NOTIFY`, and the others refresh.
//! (SQLite runs as one process, so there is nothing to tell.)

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

use crate::feeds::FeedHub;

const CHANNEL: &str = "newsfeed_live";
/// How soon the listener tries again after losing the database.
const RECONNECT_EVERY: Duration = Duration::from_millis(250);

/// Tells the other instances that what is live changed; `instance` is ours, so we skip our own.
pub async fn announce(db: &DatabaseConnection, instance: &str) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    let statement = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), instance.into()],
    );
    if let Err(error) = db.execute_raw(statement).await {
        tracing::warn!(%error, "could not notify other instances of a feed change");
    }
}

/// On PostgreSQL, refreshes `feeds` whenever another instance announces a change.
pub fn spawn_listener(
    feeds: Arc<FeedHub>,
    db: DatabaseConnection,
    instance: Arc<str>,
) -> Option<tokio::task::JoinHandle<()>> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return None;
    }
    Some(tokio::spawn(async move {
        // Retried often so that the snapshot catches up within a second of
        // the database's return; said once per outage, not per attempt.
        let mut failing = false;
        loop {
            if let Err(error) = listen(&feeds, &db, &instance, &mut failing).await {
                if !failing {
                    tracing::warn!(%error, "feed change listener lost the database; reconnecting");
                }
                failing = true;
            }
            tokio::time::sleep(RECONNECT_EVERY).await;
        }
    }))
}

async fn listen(
    feeds: &FeedHub,
    db: &DatabaseConnection,
    instance: &str,
    failing: &mut bool,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener =
        sea_orm::sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool())
            .await?;
    listener.listen(CHANNEL).await?;
    if std::mem::take(failing) {
        tracing::info!("feed change listener reconnected");
    }
    // Whatever happened while we were not listening.
    feeds.refresh_or_keep().await;
    loop {
        let notification = listener.recv().await?;
        if notification.payload() != instance {
            feeds.refresh_or_keep().await;
        }
    }
}
