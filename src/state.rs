//! The composition root: the services, the feed snapshot and the instance
//! notices wired together once, for the server and for commands.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::limits;
use crate::error::StartupError;
use crate::feeds::Snapshot;
use crate::feeds::{FeedHub, GeoIp};
use crate::mail::transport::Transport;
use crate::server::ConnectionStats;
use crate::service::{LiveSignal, Services};
use crate::{cluster, db, mail, outbound, service};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub feeds: Arc<FeedHub>,
    pub config: Arc<Config>,
    /// Open, refused and timed-out connections (counted by the server).
    pub connections: Arc<ConnectionStats>,
    /// The mail worker and the media sweep, stopped when the last clone goes.
    _tasks: Arc<BackgroundTasks>,
}

/// Background work that belongs to one app: aborted when it is dropped.
struct BackgroundTasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for BackgroundTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Removes pictures no revision uses, every `MEDIA_SWEEP_SECS`.
fn spawn_media_sweep(services: Arc<Services>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let period = std::time::Duration::from_secs(limits::MEDIA_SWEEP_SECS);
        loop {
            tokio::time::sleep(period).await;
            match service::media::sweep(&services).await {
                Ok(report) if report.removed > 0 => {
                    tracing::info!(removed = report.removed, "unused pictures removed");
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "media sweep failed"),
            }
        }
    })
}

/// Tells the fediverse, WebSub hubs and the connected social accounts what
/// the feeds publish: after each change (`wake`), and when an entry's
/// window opens or closes.
fn spawn_publisher(
    services: Arc<Services>,
    feeds: Arc<FeedHub>,
    wake: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut reconciled: Option<(Arc<Snapshot>, i64)> = None;
        loop {
            let snapshot = feeds.snapshot();
            let now = services.now();
            // Nothing to do when neither the snapshot nor an entry's window changed since.
            let current = reconciled.as_ref().is_some_and(|(last, at)| {
                Arc::ptr_eq(last, &snapshot)
                    && snapshot
                        .next_change
                        .is_none_or(|next| next <= *at || next > now)
            });
            if !current {
                let federated = service::federation::publish::reconcile(&services, &snapshot).await;
                let posted = service::syndication::publish::reconcile(&services, &snapshot).await;
                match federated.and(posted) {
                    Ok(_) => reconciled = Some((snapshot.clone(), now)),
                    Err(error) => {
                        tracing::error!(%error, "publishing to the fediverse, WebSub hubs or social networks failed")
                    }
                }
            }
            let boundary = snapshot.next_change.filter(|next| *next > now);
            let poll = std::time::Duration::from_secs(60);
            services.clock.idle(boundary, Some(&wake), poll).await;
        }
    })
}

/// Fetches the groups' subscribed calendars when they are due (each claimed
/// by one instance), and sleeps until the next is.
fn spawn_calendar_worker(services: Arc<Services>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match service::calendars::claim_due(&services).await {
                Ok(due) => {
                    for subscription in due {
                        let id = subscription.id;
                        if let Err(error) =
                            service::calendars::run_subscription(&services, subscription).await
                        {
                            tracing::error!(%error, id, "calendar run failed");
                        }
                    }
                }
                Err(error) => tracing::error!(%error, "claiming due calendars failed"),
            }
            let next = service::calendars::next_due(&services).await.ok().flatten();
            let poll = std::time::Duration::from_secs(60);
            services
                .clock
                .idle(next, Some(&services.calendar_bell), poll)
                .await;
        }
    })
}

impl AppState {
    /// Connects to the database, applies migrations and loads the feed snapshot.
    pub async fn new(config: Config) -> Result<Self, StartupError> {
        Self::with_clock(config, Clock::system()).await
    }

    /// As [`AppState::new`], with a clock of the caller's (tests move time with it).
    pub async fn with_clock(config: Config, clock: Clock) -> Result<Self, StartupError> {
        let mut db = db::connect(&config.database_url, config.db_pool).await?;
        // Before any clone, so that the feeds' reads are counted too.
        let statements = db::count_statements(&mut db);
        let config = Arc::new(config);
        let geoip = config
            .geoip_db
            .as_deref()
            .map(GeoIp::open)
            .transpose()
            .map_err(StartupError::Config)?;
        let source = Box::new(service::feed_rows::FeedRowsFromDb(db.clone()));
        let feeds = Arc::new(FeedHub::new(&config, source, clock.clone(), geoip));
        // Tells this instance's change notices from those of other instances.
        let instance: Arc<str> = service::tokens::random_hex(16).into();
        let publish = Arc::new(tokio::sync::Notify::new());
        let live = LiveSignal::new().on_change({
            let (feeds, db, instance) = (feeds.clone(), db.clone(), instance.clone());
            let publish = publish.clone();
            move || {
                let (feeds, db, instance) = (feeds.clone(), db.clone(), instance.clone());
                let publish = publish.clone();
                async move {
                    feeds.changed().await;
                    publish.notify_one();
                    cluster::announce(&db, &instance).await;
                }
            }
        });
        let mut services = Services::new(db.clone(), config.clone(), clock, live)?;
        services.counters.db_statements = statements;
        let services = Arc::new(services);
        let transport = Transport::from_config(&config)?;
        feeds.refresh().await?;
        // Every task the state starts is stopped with it (a test's restart
        // leaves no scheduler of the old state running).
        let mut tasks = vec![
            FeedHub::spawn_scheduler(feeds.clone()),
            FeedHub::spawn_refresher(feeds.clone()),
            spawn_media_sweep(services.clone()),
            spawn_publisher(services.clone(), feeds.clone(), publish),
        ];
        tasks.extend(cluster::spawn_listener(feeds.clone(), db, instance));
        if config.mail_worker {
            tasks.push(mail::worker::spawn(services.clone(), transport));
        }
        if config.delivery_worker {
            tasks.push(outbound::worker::spawn(
                services.clone(),
                services.outbound.clone(),
            ));
        }
        if config.calendar_worker {
            tasks.push(spawn_calendar_worker(services.clone()));
        }
        if config.stats_flush_secs > 0 {
            tasks.push(spawn_stats_flush(
                services.clone(),
                feeds.clone(),
                config.stats_flush_secs,
            ));
        }
        Ok(Self {
            services,
            feeds,
            config,
            connections: Arc::default(),
            _tasks: Arc::new(BackgroundTasks(tasks)),
        })
    }
}

impl AppState {
    /// Adds the audience counters into the database now (the periodic
    /// flush does the same); on failure they stay in memory for the next.
    pub async fn flush_stats(&self) {
        flush_stats(&self.services, &self.feeds).await;
    }

    /// What a stopping server does once requests in flight are answered.
    pub async fn shutdown(&self) {
        self.flush_stats().await;
    }
}

async fn flush_stats(services: &Services, feeds: &FeedHub) {
    let counts = feeds.audience.drain();
    if counts.is_empty() {
        return;
    }
    match service::stats::add(services, &counts).await {
        Ok(rows) => feeds.audience.flushed(rows),
        Err(error) => {
            tracing::error!(%error, "audience statistics not saved; keeping them for the next flush");
            feeds.audience.restore(&counts);
        }
    }
}

/// Adds the audience counters into the database every `period` seconds.
fn spawn_stats_flush(
    services: Arc<Services>,
    feeds: Arc<FeedHub>,
    period: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let period = std::time::Duration::from_secs(period);
        loop {
            tokio::time::sleep(period).await;
            flush_stats(&services, &feeds).await;
        }
    })
}

/// Services for a command that changes data outside a running server: other
/// instances on PostgreSQL hear of its changes to what is live.
pub fn command_services(
    db: sea_orm::DatabaseConnection,
    config: Config,
) -> Result<Services, StartupError> {
    let instance: Arc<str> = service::tokens::random_hex(16).into();
    let live = LiveSignal::new().on_change({
        let db = db.clone();
        move || {
            let (db, instance) = (db.clone(), instance.clone());
            async move { cluster::announce(&db, &instance).await }
        }
    });
    Services::new(db, Arc::new(config), Clock::system(), live)
}
