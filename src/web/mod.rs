//! Server-rendered pages on the same services as the API, by area: accounts,
//! a group's entries (`entries/`), moderation (with its saved areas),
//! administration (`admin/`) and the public pages. What pages share sits
//! beside them: the request context, forms, query strings, display helpers.
//! Everything works without JavaScript; every POST is CSRF-checked by its
//! handler.

mod accounts;
mod admin;
mod areas;
mod assets;
mod calendar;
mod calendar_links;
mod context;
mod display;
mod embed;
mod embed_links;
mod entries;
mod federation;
mod forms;
mod map;
mod moderation;
mod profile;
pub mod public;
mod query;
mod recurrence_form;
mod search;
pub mod security;
pub mod session;

use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::middleware::Csrf;
use poem::session::ServerSession;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Middleware, Route, get, post};

use crate::AppState;

/// Sessions and CSRF tokens around each page (not around the API or the
/// feeds, which stay free of cookies and database reads).
struct PageLayer {
    session: ServerSession<session::DbSessions>,
    csrf: Csrf,
}

impl PageLayer {
    fn new(state: &AppState) -> Self {
        Self {
            session: session::session_layer(&state.config, Arc::clone(&state.services)),
            csrf: session::csrf_layer(&state.config),
        }
    }

    fn wrap<E>(&self, endpoint: E) -> BoxEndpoint<'static>
    where
        E: IntoEndpoint,
        E::Endpoint: 'static,
    {
        let shown = endpoint.into_endpoint().around(context::show_errors);
        self.csrf
            .transform(self.session.transform(shown))
            .map_to_response()
            .boxed()
    }
}

/// The site's "not found" page, with the viewer's header: what a browser
/// gets for an address nothing answers ([`pages_for_browsers`]).
pub fn not_found_page(state: &AppState) -> BoxEndpoint<'static> {
    PageLayer::new(state)
        .wrap(not_found)
        .data(state.clone())
        .boxed()
}

#[poem::handler]
async fn not_found() -> Result<poem::Response, context::WebError> {
    Err(context::WebError::App(crate::AppError::NotFound(
        "nothing is at this address; check it for typos, or start from the news".into(),
    )))
}

/// A browser (`Accept: text/html`) asking for an address nothing answers
/// gets the site's page instead of a problem document; programs (and
/// everything under `/api/`) keep the problem document.
pub async fn pages_for_browsers<E: poem::Endpoint>(
    endpoint: Arc<E>,
    request: poem::Request,
    page: Arc<BoxEndpoint<'static>>,
) -> poem::Result<poem::Response> {
    let browser = request
        .header(poem::http::header::ACCEPT)
        .is_some_and(|accept| accept.contains("text/html"))
        && !request.uri().path().starts_with("/api/");
    if !browser {
        return endpoint
            .call(request)
            .await
            .map(IntoResponse::into_response);
    }
    let mut again = poem::Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone())
        .finish();
    *again.headers_mut() = request.headers().clone();
    let response = endpoint.call(request).await?.into_response();
    let problem = response
        .content_type()
        .is_some_and(|kind| kind.starts_with("application/problem+json"));
    if response.status() == poem::http::StatusCode::NOT_FOUND && problem {
        page.call(again).await
    } else {
        Ok(response)
    }
}

/// Adds every page to `route`.
pub fn mount(route: Route, state: &AppState) -> Route {
    let layer = PageLayer::new(state);
    let page = |endpoint| layer.wrap(endpoint);
    // A group's and an entry's page are also its actor and its note.
    let route = admin::mount(route, &page);
    federation::mount(
        route,
        page(get(public::group_page)),
        page(get(public::entry_page)),
    )
    .at("/assets/:name", get(assets::serve))
    // For other sites: no session, no cookie (and framable, see `security`).
    .at("/embed.js", get(assets::embed_script))
    .at("/embed/groups/:slug", get(embed::group_page))
    .at("/embed/entries/:id", get(embed::entry_page))
    .at(
        "/login",
        page(get(accounts::login_form).post(accounts::login)),
    )
    .at("/logout", page(post(accounts::logout)))
    .at(
        "/account",
        page(get(accounts::account).post(accounts::change_password)),
    )
    .at("/account/profile", page(post(profile::update)))
    .at("/account/mail", page(post(profile::mail)))
    .at(
        "/account/email/:token",
        page(get(profile::confirm_form).post(profile::confirm)),
    )
    .at(
        "/invite/:token",
        page(get(accounts::invitation).post(accounts::accept_invitation)),
    )
    .at(
        "/reset",
        page(get(accounts::reset_form).post(accounts::request_reset)),
    )
    .at(
        "/reset/:token",
        page(get(accounts::reset_link).post(accounts::reset_password)),
    )
    .at("/my/entries", page(get(entries::list::list)))
    .at(
        "/my/entries/new",
        page(get(entries::form::new_form).post(entries::form::create)),
    )
    .at("/my/entries/:id", page(get(entries::page::show)))
    .at(
        "/my/entries/:id/edit",
        page(get(entries::form::edit_form).post(entries::form::update)),
    )
    .at("/my/entries/:id/:action", page(post(entries::actions::act)))
    .at("/my/drafts", page(post(entries::drafts::save)))
    .at("/my/drafts/discard", page(post(entries::drafts::discard)))
    .at("/moderation", page(get(moderation::queue)))
    .at(
        "/moderation/areas",
        page(get(areas::list).post(areas::create)),
    )
    .at(
        "/moderation/areas/:id",
        page(get(areas::show).post(areas::update)),
    )
    .at("/moderation/areas/:id/delete", page(post(areas::delete)))
    .at("/moderation/:id", page(get(moderation::show)))
    .at("/moderation/:id/:action", page(post(moderation::decide)))
    .at("/:pk/", get(public::qgis_feed_entry))
    .at("/groups", page(get(public::directory)))
    // The public calendar.
    .at("/events", page(get(calendar::events)))
    .at("/groups/:slug/events", page(get(calendar::group_events)))
    .at("/archive", page(get(calendar::archive)))
    .at(
        "/request-access",
        page(get(public::request_access_form).post(public::request_access)),
    )
}
