//! `GET` of the public feeds, answered ahead of the OpenAPI route tree and
//! the middlewares of the API and the pages: these are the requests that
//! come by the hundred thousand (every QGIS start, every feed reader), and
//! each is a look-up in the snapshot. The query is read straight from the
//! URI (borrowed unless percent-encoded), the variant's headers were
//! prepared when it was rendered, and the request counts in the metrics
//! like any other. The OpenAPI operations in `feeds.rs` document these
//! routes and answer what this does not take (HEAD, the page for browsers,
//! group slugs written with escapes).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, Method, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use url::form_urlencoded;

use super::feeds::{Home, feed_answer, home_answer};
use crate::AppState;
use crate::feeds::{FeedFormat, QgisQuery};
use crate::metrics::Metrics;

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

    /// Index into [`FastFeeds::labels`].
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
    /// Route templates as metric labels, made once.
    labels: Vec<Arc<str>>,
}

impl<E> FastFeeds<E> {
    pub fn new(inner: E, state: AppState, metrics: Arc<Metrics>) -> Self {
        let mut labels: Vec<Arc<str>> = vec!["/".into()];
        for prefix in ["", "/groups/{slug}"] {
            for format in FORMATS {
                labels.push(format!("{prefix}/feed.{}", format.extension()).into());
            }
        }
        Self {
            inner,
            state,
            metrics,
            labels,
        }
    }
}

impl<E: Endpoint> Endpoint for FastFeeds<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.method() == Method::GET {
            if let Some(route) = FeedRoute::of(request.uri().path()) {
                let started = Instant::now();
                if let Some(mut response) = self.answer(&request, route).await {
                    response.headers_mut().insert(
                        header::X_CONTENT_TYPE_OPTIONS,
                        HeaderValue::from_static("nosniff"),
                    );
                    self.metrics.observe(
                        self.labels[route.label()].clone(),
                        &Method::GET,
                        response.status().as_u16(),
                        started,
                    );
                    return Ok(response);
                }
            }
        }
        self.inner
            .call(request)
            .await
            .map(IntoResponse::into_response)
    }
}

impl<E> FastFeeds<E> {
    /// The answer, or `None` for what the documented route should answer.
    async fn answer(&self, request: &Request, route: FeedRoute<'_>) -> Option<Response> {
        let pairs = form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes());
        let headers = request.headers();
        match route {
            FeedRoute::Home => {
                let [mut json, mut lang, mut after, mut lat, mut lon] = [const { None }; 5];
                for (name, value) in pairs {
                    let slot = match &*name {
                        "json" => &mut json,
                        "lang" => &mut lang,
                        "after" => &mut after,
                        "lat" => &mut lat,
                        "lon" => &mut lon,
                        _ => continue,
                    };
                    // The first of a repeated parameter counts, as on the documented route.
                    slot.get_or_insert(value);
                }
                let user_agent = match headers.get(header::USER_AGENT) {
                    Some(value) => Some(value.to_str().ok()?),
                    None => None,
                };
                let query = QgisQuery::parse(
                    json.as_deref(),
                    lang.as_deref(),
                    after.as_deref(),
                    lat.as_deref(),
                    lon.as_deref(),
                    user_agent,
                );
                match home_answer(&self.state, request, query) {
                    Home::Answer(response) => Some(response),
                    Home::Page(_) => None,
                }
            }
            FeedRoute::All(format) | FeedRoute::Group(_, format) => {
                let (mut group, mut kind, mut lang) = (Vec::new(), Vec::new(), None);
                for (name, value) in pairs {
                    match &*name {
                        "group" => group.push(value),
                        "kind" => kind.push(value),
                        "lang" => {
                            lang.get_or_insert(value);
                        }
                        _ => {}
                    }
                }
                let (group_path, group) = match route {
                    FeedRoute::Group(slug, _) => (Some(slug), Vec::new()),
                    _ => (None, group),
                };
                Some(
                    feed_answer(
                        &self.state,
                        headers,
                        format,
                        group_path,
                        group.iter().map(|value: &Cow<'_, str>| &**value),
                        kind.iter().map(|value: &Cow<'_, str>| &**value),
                        lang.as_deref(),
                    )
                    .await,
                )
            }
        }
    }
}
