#![forbid(unsafe_code)]
//! newsfeed: user groups submit entries, moderators approve them, feeds publish them.
//!
//! Data flows one way: `api` (and the CLI) call `service`, which uses
//! `domain` for every rule and `entities` for storage; `feeds` serve an
//! in-memory snapshot that the services' [`service::LiveSignal`] refreshes.
//! This file is where the parts are wired together.

pub mod api;
#[cfg(test)]
mod architecture;
pub mod cli;
pub mod clock;
mod cluster;
pub mod config;
pub mod db;
pub mod domain;
pub mod entities;
pub mod error;
pub mod feeds;
pub mod mail;
pub mod media;
pub mod metrics;
pub(crate) mod middleware;
pub mod outbound;
pub mod routes;
pub mod server;
pub mod service;
pub mod state;
pub mod web;

use std::sync::Arc;

use poem::{Endpoint, EndpointExt, Route};

pub use config::Config;
pub use error::{AppError, AppResult, StartupError};
pub use state::AppState;

pub use api::openapi;

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> impl Endpoint<Output = poem::Response> + server::Front {
    let service = openapi();
    let routes = Arc::new(routes::Routes::from_spec(&service.spec()));
    let problems = Arc::new(api::problem::Problems::new(
        &state.config.public_base_url(),
        routes.clone(),
    ));
    let metrics = Arc::new(metrics::Metrics::new(
        routes,
        state.services.clone(),
        state.feeds.clone(),
        state.connections.clone(),
    ));
    let limits = middleware::BodyLimits {
        json: state.config.max_body_bytes,
        upload: state.config.image_max_bytes + domain::limits::MULTIPART_OVERHEAD_BYTES,
        calendar: domain::limits::CALENDAR_MAX_BYTES + domain::limits::MULTIPART_OVERHEAD_BYTES,
    };
    let not_found_page = Arc::new(web::not_found_page(&state));
    let everything_else = web::mount(Route::new(), &state)
        // Beside the page `/entries/:id` (the pattern takes digits only).
        .at(
            "/entries/:id<^[0-9]+>.ics",
            poem::get(feeds::EntryFeed::new(
                state.feeds.clone(),
                feeds::EntryDocument::Calendar,
            )),
        )
        .at(
            "/entries/:id<^[0-9]+>.json",
            poem::get(feeds::EntryFeed::new(
                state.feeds.clone(),
                feeds::EntryDocument::JsonFeed,
            )),
        )
        .at("/api/v1/openapi.json", service.spec_endpoint())
        .nest("/api/docs", service.swagger_ui())
        .at("/problems/:slug", api::problem::describe)
        .nest("/", service)
        .around(move |endpoint, request| middleware::limit_body(endpoint, request, limits))
        .around(move |endpoint, request| {
            api::problem::render_errors(endpoint, request, problems.clone())
        })
        .around(move |endpoint, request| {
            web::pages_for_browsers(endpoint, request, not_found_page.clone())
        })
        .around(web::security::page_headers)
        .around({
            let metrics = metrics.clone();
            move |endpoint, request| metrics::count_requests(endpoint, request, metrics.clone())
        })
        .data(state.clone())
        .data(api::HomePage(
            web::public::home_page,
            web::public::home_search,
        ))
        .data(metrics.clone());
    // Boxed, so that the feeds' future does not carry (and copy) the much
    // larger one of everything else.
    api::fast_feeds::FastFeeds::new(everything_else.boxed(), state, metrics)
}
