//! `GET` of the public feeds, answered ahead of the OpenAPI route tree and
//! the middlewares of the API and the pages: these are the requests that
//! come by the hundred thousand (every QGIS start, every feed reader), and
//! each is a look-up in the snapshot. The server asks [`Front`] with the
//! request's head before it builds a poem request at all; under a test
//! client the same answer comes from the [`Endpoint`]. The query is read
//! straight from the URI (borrowed unless percent-encoded), the variant's
//! headers were prepared when it was rendered, and the request counts in
//! the metrics like any other (atomics, no lock). The OpenAPI operations in
//! `feeds.rs` document these routes and answer what this does not take
//! (HEAD, the page for browsers, group slugs written with escapes, a group
//! the snapshot does not know yet).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use std::net::IpAddr;

use poem::http::{HeaderMap, Method, Uri, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use url::form_urlencoded;

use super::feeds::{Home, feed_answer_now, home_answer};
use crate::AppState;
use crate::feeds::{FeedFormat, FeedParams, QgisQuery};
use crate::metrics::{Metrics, RouteMeter};
use crate::server::Front;

const FORMATS: [FeedFormat; 4] = [
    FeedFormat::Json,
    FeedFormat::Rss,
    FeedFormat::Atom,
    FeedFormat::Ics,
];

/// The feed routes, by the route template they count under.
#[derive(Clone, Copy)]
enum FeedRoute<'a> {
    Home,
    All(FeedFormat),
    Group(&'a str, FeedFormat),
}

impl<'a> FeedRoute<'a> {
    fn of(path: &'a str) -> Option<Self> {
        if path == "/" {
            return Some(Self::Home);
        }
        let format_of = |name: &str| {
            FORMATS
                .into_iter()
                .find(|format| name.strip_prefix("feed.") == Some(format.extension()))
        };
        if let Some(name) = path.strip_prefix('/').filter(|name| !name.contains('/')) {
            return format_of(name).map(Self::All);
        }
        let (slug, name) = path.strip_prefix("/groups/")?.split_once('/')?;
        // Escaped slugs take the documented route, which decodes them.
        let plain = !slug.is_empty() && !slug.contains('%');
        format_of(name)
            .filter(|_| plain)
            .map(|format| Self::Group(slug, format))
    }

    /// Index into [`FastFeeds::meters`].
    fn label(self) -> usize {
        match self {
            Self::Home => 0,
            Self::All(format) => 1 + format as usize,
            Self::Group(_, format) => 5 + format as usize,
        }
    }
}

/// Wraps the application; see the module documentation.
pub struct FastFeeds<E> {
    inner: E,
    state: AppState,
    metrics: Arc<Metrics>,
    /// Each route's counters, by [`FeedRoute::label`].
    meters: Vec<RouteMeter>,
}

impl<E> FastFeeds<E> {
    pub fn new(inner: E, state: AppState, metrics: Arc<Metrics>) -> Self {
        let mut meters = vec![metrics.meter("/".into())];
        for prefix in ["", "/groups/{slug}"] {
            for format in FORMATS {
                let route = format!("{prefix}/feed.{}", format.extension());
                meters.push(metrics.meter(route.into()));
            }
        }
        Self {
            inner,
            state,
            metrics,
            meters,
        }
    }
}

impl<E: Endpoint> Endpoint for FastFeeds<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let peer = request.remote_addr().as_socket_addr().map(|addr| addr.ip());
        match self.answer_head(request.method(), request.uri(), request.headers(), peer) {
            Some(response) => Ok(response),
            None => self
                .inner
                .call(request)
                .await
                .map(IntoResponse::into_response),
        }
    }
}

impl<E: Send + Sync> Front for FastFeeds<E> {
    fn answer_head(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Option<Response> {
        if method != Method::GET {
            return None;
        }
        let route = FeedRoute::of(uri.path())?;
        let started = Instant::now();
        let response = self.answer(uri, headers, peer, route)?;
        self.meters[route.label()].observe(&self.metrics, response.status().as_u16(), started);
        Some(response)
    }
}

impl<E> FastFeeds<E> {
    /// The answer, or `None` for what the documented route should answer.
    fn answer(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
        route: FeedRoute<'_>,
    ) -> Option<Response> {
        let raw = RawQuery::of(uri.query().unwrap_or_default());
        let mut params = raw.feed_params();
        match route {
            FeedRoute::Home => {
                let user_agent = match headers.get(header::USER_AGENT) {
                    Some(value) => Some(value.to_str().ok()?),
                    None => None,
                };
                let query = QgisQuery::parse(
                    raw.json.as_deref(),
                    raw.lang.as_deref(),
                    raw.after.as_deref(),
                    raw.lat.as_deref(),
                    raw.lon.as_deref(),
                    user_agent,
                );
                match home_answer(&self.state, headers, peer, query, &params) {
                    Home::Answer(response) => Some(response),
                    Home::Page(_) | Home::Missed => None,
                }
            }
            FeedRoute::All(format) | FeedRoute::Group(_, format) => {
                let group_path = match route {
                    FeedRoute::Group(slug, _) => {
                        // The path names the group.
                        params.group.clear();
                        Some(slug)
                    }
                    _ => None,
                };
                let caching = &self.state.feeds.settings().feed_caching;
                feed_answer_now(&self.state, headers, format, group_path, &params, caching)
            }
        }
    }
}

/// The parameters of the feed routes in a query string, decoded (borrowed
/// unless percent-encoded); of one given more than once the first counts,
/// as on the documented routes, but `group`, `kind` and `country` add up.
#[derive(Default)]
struct RawQuery<'a> {
    json: Option<Cow<'a, str>>,
    lang: Option<Cow<'a, str>>,
    after: Option<Cow<'a, str>>,
    lat: Option<Cow<'a, str>>,
    lon: Option<Cow<'a, str>>,
    limit: Option<Cow<'a, str>>,
    before: Option<Cow<'a, str>>,
    group: Vec<Cow<'a, str>>,
    kind: Vec<Cow<'a, str>>,
    country: Vec<Cow<'a, str>>,
}

impl<'a> RawQuery<'a> {
    fn of(query: &'a str) -> Self {
        let mut raw = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let list = match &*name {
                "group" => &mut raw.group,
                "kind" => &mut raw.kind,
                "country" => &mut raw.country,
                _ => {
                    let slot = match &*name {
                        "json" => &mut raw.json,
                        "lang" => &mut raw.lang,
                        "after" => &mut raw.after,
                        "lat" => &mut raw.lat,
                        "lon" => &mut raw.lon,
                        "limit" => &mut raw.limit,
                        "before" => &mut raw.before,
                        _ => continue,
                    };
                    slot.get_or_insert(value);
                    continue;
                }
            };
            list.push(value);
        }
        raw
    }

    fn feed_params(&self) -> FeedParams<'_> {
        fn strs<'b>(values: &'b [Cow<'_, str>]) -> Vec<&'b str> {
            values.iter().map(|value| &**value).collect()
        }
        FeedParams {
            group: strs(&self.group),
            kind: strs(&self.kind),
            country: strs(&self.country),
            lang: self.lang.as_deref(),
            limit: self.limit.as_deref(),
            before: self.before.as_deref(),
        }
    }
}
