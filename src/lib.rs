#![forbid(unsafe_code)]
//! newsfeed: user groups submit entries, moderators approve them, feeds publish them.
//!
//! Data flows one way: `api` (and the CLI) call `service`, which uses
//! `domain` for every rule and `entities` for storage; `feeds` serve an
//! in-memory snapshot that the services' [`service::LiveSignal`] refreshes.
//! This file is where the parts are wired together.

pub mod api;
pub mod cli;
pub mod clock;
mod cluster;
pub mod config;
pub mod db;
pub mod domain;
pub mod entities;
pub mod error;
pub mod feeds;
mod middleware;
pub mod service;

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Route};

use clock::Clock;
pub use config::Config;
pub use error::{AppError, AppResult, StartupError};
use feeds::FeedHub;
use service::{LiveSignal, Services};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub feeds: Arc<FeedHub>,
    pub config: Arc<Config>,
}

impl AppState {
    /// Connects to the database, applies migrations and loads the feed snapshot.
    pub async fn new(config: Config) -> Result<Self, StartupError> {
        Self::with_clock(config, Clock::system()).await
    }

    /// As [`AppState::new`], with a clock of the caller's (tests move time with it).
    pub async fn with_clock(config: Config, clock: Clock) -> Result<Self, StartupError> {
        let db = db::connect(&config.database_url, config.db_pool).await?;
        let config = Arc::new(config);
        let feeds = Arc::new(FeedHub::new(&config, db.clone(), clock.clone()));
        // Tells this instance's change notices from those of other instances.
        let instance: Arc<str> = service::tokens::random_hex(16).into();
        let live = LiveSignal::new().on_change({
            let (feeds, db, instance) = (feeds.clone(), db.clone(), instance.clone());
            move || {
                let (feeds, db, instance) = (feeds.clone(), db.clone(), instance.clone());
                async move {
                    feeds.refresh_or_keep().await;
                    cluster::announce(&db, &instance).await;
                }
            }
        });
        let services = Arc::new(Services::new(db.clone(), config.clone(), clock, live)?);
        feeds.refresh().await?;
        FeedHub::spawn_scheduler(feeds.clone());
        cluster::spawn_listener(feeds.clone(), db, instance);
        Ok(Self {
            services,
            feeds,
            config,
        })
    }
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

/// The OpenAPI service: every documented operation.
pub fn openapi() -> poem_openapi::OpenApiService<api::Apis, ()> {
    poem_openapi::OpenApiService::new(api::apis(), "newsfeed", env!("CARGO_PKG_VERSION"))
        .description(
            "Submission, moderation and publication of user-group news: events, meetups, \
             crowdfunding campaigns and announcements, published as a QGIS news feed, \
             JSON Feed, RSS, Atom and iCalendar.",
        )
}

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> impl Endpoint<Output = poem::Response> {
    let service = openapi();
    let problems = Arc::new(api::problem::Problems::new(
        &state.config.public_url,
        &service.spec(),
    ));
    let max_body = state.config.max_body_bytes;
    Route::new()
        .at("/api/v1/openapi.json", service.spec_endpoint())
        .nest("/api/docs", service.swagger_ui())
        .at("/problems/:slug", api::problem::describe)
        .nest("/", service)
        .around(move |endpoint, request| middleware::limit_body(endpoint, request, max_body))
        .around(move |endpoint, request| {
            api::problem::render_errors(endpoint, request, problems.clone())
        })
        .with(poem::middleware::Tracing)
        .data(state)
}
