//! Use cases over the database, callable from the API, the web pages and the
//! CLI alike. Every use case takes [`Services`]; the ones that change what
//! the feeds publish announce it through [`LiveSignal`] themselves, so no
//! caller has to remember to.

pub mod access_requests;
pub mod accounts;
pub mod archive;
pub mod areas;
pub mod auth;
pub mod calendar;
pub mod calendars;
pub mod drafts;
pub mod embeds;
pub mod entries;
pub mod entry_inserts;
pub mod federation;
pub mod feed_rows;
pub mod groups;
pub mod lookup;
pub mod media;
pub mod notifications;
pub mod outbox;
pub mod passwords;
pub mod profile;
pub mod qgisfeed_import;
pub mod rate_limit;
pub mod reviewers;
pub mod search;
pub mod sessions;
pub mod stats;
pub mod syndication;
pub mod tokens;
pub mod users;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};

use crate::Config;
use crate::clock::Clock;
use crate::domain::limits;
use crate::error::StartupError;
use crate::media::MediaStore;
use passwords::Passwords;
use rate_limit::Limit;
use tokens::JwtKeys;

/// What every use case works with.
pub struct Services {
    pub db: DatabaseConnection,
    pub clock: Clock,
    pub config: Arc<Config>,
    pub live: LiveSignal,
    pub passwords: Passwords,
    pub jwt: JwtKeys,
    pub limits: Limits,
    pub counters: Counters,
    /// Stored pictures, under `--media-dir`.
    pub media: MediaStore,
    /// Requests to other servers (fediverse, WebSub), guarded.
    pub outbound: crate::outbound::client::Client,
    /// Requests for the groups' subscribed calendars, guarded alike.
    pub fetch: crate::outbound::client::Client,
    /// Rung when a calendar is subscribed, so the worker fetches it at once.
    pub calendar_bell: tokio::sync::Notify,
    /// The delivery queue's bell and counts.
    pub deliveries: federation::queue::Deliveries,
    /// New entries, written together (group commit).
    pub entry_inserts: entry_inserts::EntryInserts,
    /// SQLite's one writer, taken in turn by this process (see `begin_write`).
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// A transaction from [`Services::begin_write`]. Its fields drop in order:
/// the transaction (rolled back unless committed), then the turn.
pub struct Writing<'a> {
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl std::ops::Deref for Writing<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Writing<'_> {
    /// Commits, then gives the turn to the next writer.
    pub async fn commit(self) -> Result<(), sea_orm::DbErr> {
        self.txn.commit().await
    }
}

/// A transaction on `db` holding `writer`'s turn, where there is one (see
/// [`Services::begin_write`]).
async fn begin_write<'a>(
    db: &DatabaseConnection,
    writer: Option<&'a tokio::sync::Mutex<()>>,
) -> Result<Writing<'a>, sea_orm::DbErr> {
    let turn = match writer {
        Some(writer) => Some(writer.lock().await),
        None => None,
    };
    Ok(Writing {
        txn: db.begin().await?,
        _turn: turn,
    })
}

/// Events counted for monitoring (read by `/metrics`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Logins refused for a wrong email or password.
    pub login_failures: AtomicU64,
    /// Requests refused by an attempt limit (`429`).
    pub rate_limited: AtomicU64,
    /// Rounds the mail worker has finished (it looked for due mail and sent it).
    pub mail_rounds: AtomicU64,
    /// SQL statements sent to the database (counted by the connection).
    pub db_statements: Arc<AtomicU64>,
}

impl Counters {
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The attempt budgets (see `rate_limit`).
pub struct Limits {
    /// Failed logins per account and client address.
    pub login_pair: Limit,
    /// Failed logins per client address.
    pub login_address: Limit,
    /// Failed logins per account; past it attempts are slowed, not refused.
    pub login_account: Limit,
    /// Access requests per client address.
    pub access_requests: Limit,
    /// Password-reset links asked for, per account and client address.
    pub reset_pair: Limit,
    /// Password-reset links asked for, per client address.
    pub reset_address: Limit,
    /// Password-reset links sent to one account, from every address.
    pub reset_account: Limit,
}

impl Services {
    pub fn new(
        db: DatabaseConnection,
        config: Arc<Config>,
        clock: Clock,
        live: LiveSignal,
    ) -> Result<Self, StartupError> {
        let agent = format!(
            "newsfeed/{} (+{})",
            env!("CARGO_PKG_VERSION"),
            config.public_base_url()
        );
        let writer = (db.get_database_backend() == sea_orm::DbBackend::Sqlite)
            .then(|| Arc::new(tokio::sync::Mutex::new(())));
        Ok(Self {
            entry_inserts: entry_inserts::EntryInserts::new(db.clone(), writer.clone()),
            jwt: JwtKeys::from_config(&config, &clock)?,
            passwords: Passwords::new(passwords::default_concurrency(), config.password_queue),
            limits: Limits {
                login_pair: Limit::new(
                    "login-pair",
                    config.login_attempts,
                    limits::LOGIN_WINDOW_SECS,
                    clock.clone(),
                ),
                login_address: Limit::new(
                    "login-address",
                    config.login_attempts_per_ip,
                    limits::LOGIN_WINDOW_SECS,
                    clock.clone(),
                ),
                login_account: Limit::new(
                    "login-account",
                    config.login_attempts_per_account,
                    limits::LOGIN_WINDOW_SECS,
                    clock.clone(),
                ),
                access_requests: Limit::new(
                    "access-requests",
                    config.access_requests_per_hour,
                    limits::ACCESS_REQUEST_WINDOW_SECS,
                    clock.clone(),
                ),
                reset_pair: Limit::new(
                    "reset-pair",
                    limits::PASSWORD_RESETS_PER_WINDOW,
                    limits::PASSWORD_RESET_WINDOW_SECS,
                    clock.clone(),
                ),
                reset_address: Limit::new(
                    "reset-address",
                    limits::PASSWORD_RESETS_PER_ADDRESS,
                    limits::PASSWORD_RESET_WINDOW_SECS,
                    clock.clone(),
                ),
                reset_account: Limit::new(
                    "reset-account",
                    limits::PASSWORD_RESETS_PER_ACCOUNT,
                    limits::PASSWORD_RESET_WINDOW_SECS,
                    clock.clone(),
                ),
            },
            counters: Counters::default(),
            media: MediaStore::new(config.media_dir()),
            outbound: crate::outbound::client::Client::new(config.federation_allow_private, &agent)
                .map_err(StartupError::Config)?,
            fetch: crate::outbound::client::Client::new(config.fetch_allow_private, &agent)
                .map_err(StartupError::Config)?,
            calendar_bell: tokio::sync::Notify::new(),
            deliveries: federation::queue::Deliveries::default(),
            writer,
            db,
            clock,
            config,
            live,
        })
    }

    /// A write transaction that holds this process's turn to write until it
    /// commits or is dropped. SQLite has one writer: concurrent
    /// transactions wait here, in order, instead of meeting its lock and its
    /// busy handler's sleeps (1, 2, 5, 10 ms and longer), which were most of
    /// a submission's time under load. PostgreSQL takes concurrent writers
    /// itself: no turn.
    pub async fn begin_write(&self) -> Result<Writing<'_>, sea_orm::DbErr> {
        begin_write(&self.db, self.writer.as_deref()).await
    }

    /// Unix seconds now, by the services' clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Now, and the configured lengths the publication window rules use.
    pub fn timing(&self) -> crate::domain::schedule::Timing {
        crate::domain::schedule::Timing {
            now: self.now(),
            event_default_secs: i64::from(self.config.event_default_hours) * 3600,
            announcement_secs: i64::from(self.config.announcement_days) * 86_400,
        }
    }

    /// Whether the database answers.
    pub async fn check_database(&self) -> crate::AppResult<()> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }
}

type Listener = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Announces "what the feeds publish changed" to whoever listens (the feed
/// snapshot, other instances); the services call [`LiveSignal::changed`]
/// after every such change has been committed.
#[derive(Default)]
pub struct LiveSignal {
    listeners: Vec<Listener>,
}

impl LiveSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a listener, awaited on every change.
    #[must_use]
    pub fn on_change<F, Fut>(mut self, listener: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.listeners.push(Box::new(move || Box::pin(listener())));
        self
    }

    /// Tells every listener, one after the other; returns when all are done,
    /// so that a change is visible in the feeds once the use case returns.
    pub async fn changed(&self) {
        for listener in &self.listeners {
            listener().await;
        }
    }
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
