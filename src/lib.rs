#![forbid(unsafe_code)]
//! newsfeed: user groups submit entries, moderators approve them, feeds publish them.

pub mod api;
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

pub use config::Config;
pub use error::{AppError, AppResult};
use service::{auth::JwtKeys, rate_limit::RateLimiter};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: sea_orm::DatabaseConnection,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    pub login_limiter: Arc<RateLimiter>,
    pub access_request_limiter: Arc<RateLimiter>,
    pub feeds: Arc<feeds::FeedHub>,
    /// Tells this instance's change notices from those of other instances.
    pub instance: Arc<str>,
}

impl AppState {
    /// Connects to the database, applies migrations and loads the feed snapshot.
    pub async fn new(config: Config) -> AppResult<Self> {
        let db = db::connect(&config.database_url, config.db_pool).await?;
        let jwt = JwtKeys::from_config(&config)?;
        let state = Self {
            db,
            jwt: Arc::new(jwt),
            login_limiter: Arc::new(RateLimiter::new(config.login_attempts, 15 * 60)),
            access_request_limiter: Arc::new(RateLimiter::new(
                config.access_requests_per_hour,
                3600,
            )),
            feeds: Arc::new(feeds::FeedHub::new(&config)),
            config: Arc::new(config),
            instance: service::auth::new_api_token_secret().into(),
        };
        state.feeds.refresh(&state.db).await?;
        feeds::FeedHub::spawn_scheduler(state.feeds.clone(), state.db.clone());
        cluster::spawn_listener(
            state.feeds.clone(),
            state.db.clone(),
            state.instance.clone(),
        );
        Ok(state)
    }

    /// Called after every change that can alter what feeds publish.
    pub async fn live_changed(&self) {
        self.feeds.refresh_or_keep(&self.db).await;
        cluster::announce(&self.db, &self.instance).await;
    }
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
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    let max_body = state.config.max_body_bytes;
    let allowed = std::sync::Arc::new(middleware::AllowedMethods::from_spec(&service.spec()));
    Route::new()
        .at("/api/v1/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest("/", service)
        .around(move |endpoint, request| middleware::limit_body(endpoint, request, max_body))
        .around(move |endpoint, request| {
            middleware::allow_on_405(endpoint, request, allowed.clone())
        })
        .with(poem::middleware::Tracing)
        .catch_all_error(error::any_error_to_problem)
        .data(state)
}
