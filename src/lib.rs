#![forbid(unsafe_code)]
//! newsfeed: user groups submit entries, moderators approve them, feeds publish them.

pub mod api;
pub mod config;
pub mod db;
pub mod domain;
pub mod entities;
pub mod error;
pub mod feeds;
pub mod service;

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, middleware};

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
    pub feeds: Arc<feeds::FeedHub>,
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
            feeds: Arc::new(feeds::FeedHub::new(&config)),
            config: Arc::new(config),
        };
        state.feeds.refresh(&state.db).await?;
        Ok(state)
    }

    /// Called after every change that can alter what feeds publish.
    pub async fn live_changed(&self) {
        if let Err(error) = self.feeds.refresh(&self.db).await {
            tracing::error!(%error, "feed snapshot refresh failed; serving the previous one");
        }
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
    Route::new()
        .at("/api/v1/openapi.json", spec)
        .nest("/api/docs", docs)
        .nest("/", service)
        .around(move |endpoint, request| limit_body(endpoint, request, max_body))
        .with(middleware::Tracing)
        .catch_all_error(error::any_error_to_problem)
        .data(state)
}

/// Refuses bodies over `max` bytes with 413, whether or not the client sent
/// `Content-Length` (chunked bodies are read up to the limit).
async fn limit_body<E: Endpoint>(endpoint: std::sync::Arc<E>, mut request: Request, max: usize) -> poem::Result<Response> {
    let too_large = || poem::Error::from_string(format!("request body larger than {max} bytes"), StatusCode::PAYLOAD_TOO_LARGE);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    match declared {
        Some(length) if length > max => return Err(too_large()),
        Some(_) => {}
        None if request.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = request.take_body().into_bytes_limit(max).await.map_err(|_| too_large())?;
            request.set_body(body);
        }
        None => {}
    }
    Ok(endpoint.call(request).await?.into_response())
}
