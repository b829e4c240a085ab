//! Keeps the feed snapshots of several instances on one PostgreSQL in step:
//! after a live change an instance sends `NOTIFY`, and the others refresh.
//! (SQLite runs as one process, so there is nothing to tell.)

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

use crate::feeds::FeedHub;

const CHANNEL: &str = "newsfeed_live";

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
        loop {
            if let Err(error) = listen(&feeds, &db, &instance).await {
                tracing::warn!(%error, "feed change listener failed; reconnecting in 5 s");
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }))
}

async fn listen(
    feeds: &FeedHub,
    db: &DatabaseConnection,
    instance: &str,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener =
        sea_orm::sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool())
            .await?;
    listener.listen(CHANNEL).await?;
    // Whatever happened while we were not listening.
    feeds.refresh_or_keep().await;
    loop {
        let notification = listener.recv().await?;
        if notification.payload() != instance {
            feeds.refresh_or_keep().await;
        }
    }
}
