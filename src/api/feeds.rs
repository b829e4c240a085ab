//! Public feeds: the QGIS news feed at `/` and JSON Feed, RSS, Atom and
//! iCalendar, whole or per group. Served from the in-memory snapshot.

use std::marker::PhantomData;

use poem::http::{HeaderMap, StatusCode};
use poem::web::Data;
use poem::{IntoResponse, Request, Response};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use crate::AppState;
use crate::feeds::{self, FeedFormat, FeedQuery, QgisQuery};
use crate::middleware::client_addr;

pub struct FeedsApi;

/// The media types one feed route answers with, each with the JSON type of its body
/// (`string` for text formats) so the spec describes what clients parse.
pub trait Media: Send {
    const TYPES: &'static [(&'static str, &'static str)];
    /// How a refused request is answered.
    const REFUSALS: &'static [&'static str] = &["text/plain"];
}

pub struct HomeMedia;
impl Media for HomeMedia {
    const TYPES: &'static [(&'static str, &'static str)] =
        &[("application/json", "array"), ("text/html", "string")];
    /// A browser's refused search (`q`) gets the site's error page.
    const REFUSALS: &'static [&'static str] = &["text/plain", "text/html"];
}
pub struct JsonFeedMedia;
impl Media for JsonFeedMedia {
    const TYPES: &'static [(&'static str, &'static str)] = &[("application/feed+json", "object")];
}
pub struct RssMedia;
impl Media for RssMedia {
    const TYPES: &'static [(&'static str, &'static str)] = &[("application/rss+xml", "string")];
}
pub struct AtomMedia;
impl Media for AtomMedia {
    const TYPES: &'static [(&'static str, &'static str)] = &[("application/atom+xml", "string")];
}
pub struct IcsMedia;
impl Media for IcsMedia {
    const TYPES: &'static [(&'static str, &'static str)] = &[("text/calendar", "string")];
}

/// A feed response: raw bytes with caching headers, 304, or a plain-text refusal.
pub struct FeedReply<M>(Response, PhantomData<M>);

impl<M> FeedReply<M> {
    fn new(response: Response) -> Self {
        Self(response, PhantomData)
    }
}

impl<M: Media> IntoResponse for FeedReply<M> {
    fn into_response(self) -> Response {
        self.0
    }
}

fn header(name: &str, description: &str) -> MetaHeader {
    MetaHeader {
        required: true,
        ..optional_header(name, description)
    }
}

fn optional_header(name: &str, description: &str) -> MetaHeader {
    MetaHeader {
        name: name.into(),
        description: Some(description.into()),
        required: false,
        deprecated: false,
        schema: String::schema_ref(),
    }
}

fn refusal(status: u16, description: &'static str, types: &[&'static str]) -> MetaResponse {
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: types
            .iter()
            .map(|content_type| MetaMediaType {
                content_type,
                schema: String::schema_ref(),
            })
            .collect(),
        headers: vec![],
    }
}

impl<M: Media> ApiResponse for FeedReply<M> {
    fn meta() -> MetaResponses {
        let caching = || {
            vec![
                header(
                    "ETag",
                    "Changes whenever the body does; a gzip-coded body has its own, ending in `-gzip` inside the quotes.",
                ),
                header("Last-Modified", "Latest change to what the feeds publish."),
                header("Cache-Control", "`public, max-age=N` (configurable)."),
                header(
                    "Access-Control-Allow-Origin",
                    "`*`: any site may read feeds.",
                ),
                header(
                    "Vary",
                    "`Accept-Encoding` (`User-Agent, Accept-Encoding` on `/`).",
                ),
            ]
        };
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: "The feed",
                    status: Some(200),
                    status_range: None,
                    content: M::TYPES
                        .iter()
                        .map(|(content_type, body_type)| MetaMediaType {
                            content_type,
                            schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new(body_type))),
                        })
                        .collect(),
                    headers: {
                        let mut headers = caching();
                        headers.push(optional_header(
                            "Content-Encoding",
                            "`gzip` when `Accept-Encoding` allows gzip and the body is 256 bytes or more.",
                        ));
                        headers
                    },
                },
                MetaResponse {
                    description: "The client's copy (If-None-Match / If-Modified-Since) is current",
                    status: Some(304),
                    status_range: None,
                    content: vec![],
                    headers: caching(),
                },
                refusal(
                    400,
                    "A parameter is invalid; the body says which and why",
                    M::REFUSALS,
                ),
                refusal(404, "Unknown group", &["text/plain"]),
            ],
        }
    }

    fn register(_registry: &mut Registry) {}
}

/// The start page for browsers, which the pages render: the composition
/// root hands it to the API (which must not depend on the pages).
#[derive(Clone, Copy)]
pub struct HomePage(
    pub fn(&crate::feeds::FeedHub, &QgisQuery) -> std::sync::Arc<crate::feeds::Rendered>,
    /// The page searched (`q`, with pages by `offset`), which is not cached.
    pub HomeSearch,
);

/// The searched start page: state, query, `q`, `offset`.
pub type HomeSearch =
    for<'a> fn(
        &'a AppState,
        &'a QgisQuery,
        &'a str,
        Option<&'a str>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + 'a>>;

/// What `GET /` answers: the QGIS array (or a refusal) whole, or the page
/// for a browser.
pub(crate) enum Home {
    Answer(Response),
    Page(QgisQuery),
}

/// Answers `GET /` for QGIS and `json=1` from the snapshot.
pub(crate) fn home_answer(
    state: &AppState,
    request: &Request,
    query: Result<QgisQuery, String>,
) -> Home {
    match query {
        Ok(mut query) if query.json => {
            // Counted in the audience, and placed by its address when needed.
            let agent = request
                .headers()
                .get(poem::http::header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            let config = &state.config;
            let client_addr = || client_addr(request, config.trust_proxy, &config.trusted_proxies);
            state.feeds.observe(agent, client_addr, &mut query);
            Home::Answer(
                feeds::qgis_home(&state.feeds, &query)
                    .respond(request.headers(), &state.feeds.settings().home_caching),
            )
        }
        Ok(query) => Home::Page(query),
        Err(message) => Home::Answer(feeds::plain_error(StatusCode::BAD_REQUEST, &message)),
    }
}

/// Answers `/feed.*` and `/groups/{slug}/feed.*` from the snapshot.
pub(crate) async fn feed_answer<'a>(
    state: &AppState,
    request: &HeaderMap,
    format: FeedFormat,
    group_path: Option<&str>,
    group: impl IntoIterator<Item = &'a str>,
    kind: impl IntoIterator<Item = &'a str>,
    lang: Option<&str>,
) -> Response {
    let query = match FeedQuery::parse(group, kind, lang) {
        Ok(query) => query,
        Err(message) => return feeds::plain_error(StatusCode::BAD_REQUEST, &message),
    };
    match state.feeds.feed(format, query, group_path).await {
        Ok(rendered) => rendered.respond(request, &state.feeds.settings().feed_caching),
        Err(refusal) => feeds::plain_error(refusal.status, &refusal.message),
    }
}

async fn other_feed<M>(
    state: &AppState,
    request: &Request,
    format: FeedFormat,
    group_path: Option<&str>,
    group: &[String],
    kind: &[String],
    lang: Option<&str>,
) -> FeedReply<M> {
    FeedReply::new(
        feed_answer(
            state,
            request.headers(),
            format,
            group_path,
            group.iter().map(String::as_str),
            kind.iter().map(String::as_str),
            lang,
        )
        .await,
    )
}

#[OpenApi(tag = "ApiTags::Feeds")]
impl FeedsApi {
    /// The QGIS news feed, or a page of what is published.
    ///
    /// With a User-Agent containing `QGIS` or with `json=1`: a JSON array of at
    /// most 20 (configurable) entries, sticky first, then by priority, then
    /// newest: `{pk, publish_from, publish_to, title, image, content, url, sticky}`.
    /// Otherwise an HTML page of what is live. With `after`, QGIS 3.36 and later
    /// (`QGIS/33600` or more in the User-Agent) and other clients also get the
    /// entries that expired or were withdrawn since, with a past `publish_to`;
    /// older QGIS gets only entries published or changed since.
    #[oai(path = "/", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn home(
        &self,
        state: Data<&AppState>,
        page: Data<&HomePage>,
        request: &Request,
        /// `1` for the JSON array whatever the User-Agent.
        json: Query<Option<String>>,
        /// Comma list of language codes (`en`, `pt_BR`; only the first two letters count). Entries without a language go to everyone.
        lang: Query<Option<String>>,
        /// Unix seconds (integer or decimal): only what changed since.
        after: Query<Option<String>>,
        /// Latitude of the client, with `lon`: entries with a target area reach only points inside it.
        lat: Query<Option<String>>,
        /// Longitude of the client, with `lat`.
        lon: Query<Option<String>>,
        /// The page only: words (at most 10, 200 characters) that what is live must all
        /// hold in its title, text, place or group name; the last may be the start of a word.
        q: Query<Option<String>>,
        /// The page only, with `q`: matches to skip (pages of 30).
        offset: Query<Option<String>>,
        /// QGIS sends `Mozilla/5.0 QGIS/<version int>/<OS>`.
        #[oai(name = "User-Agent")]
        user_agent: Header<Option<String>>,
    ) -> FeedReply<HomeMedia> {
        let query = QgisQuery::parse(
            json.as_deref(),
            lang.as_deref(),
            after.as_deref(),
            lat.as_deref(),
            lon.as_deref(),
            user_agent.as_deref(),
        );
        FeedReply::new(match home_answer(&state, request, query) {
            Home::Answer(response) => response,
            Home::Page(query) if q.as_deref().is_some_and(|q| !q.trim().is_empty()) => {
                (page.0.1)(
                    &state,
                    &query,
                    q.as_deref().unwrap_or_default(),
                    offset.as_deref(),
                )
                .await
            }
            Home::Page(query) => (page.0.0)(&state.feeds, &query)
                .respond(request.headers(), &state.feeds.settings().page_caching),
        })
    }

    /// JSON Feed 1.1 of what is live, with `_newsfeed` fields (kind, group, event dates, place).
    #[oai(path = "/feed.json", method = "get")]
    async fn json_feed(
        &self,
        state: Data<&AppState>,
        request: &Request,
        /// Group slugs, repeated or comma-separated.
        #[oai(default)]
        group: Query<Vec<String>>,
        /// Kinds (`event`, `meetup`, `crowdfunding`, `announcement`), repeated or comma-separated.
        #[oai(default)]
        kind: Query<Vec<String>>,
        /// Comma list of language codes.
        lang: Query<Option<String>>,
    ) -> FeedReply<JsonFeedMedia> {
        other_feed(
            &state,
            request,
            FeedFormat::Json,
            None,
            &group,
            &kind,
            lang.as_deref(),
        )
        .await
    }

    /// RSS 2.0 of what is live.
    #[oai(path = "/feed.rss", method = "get")]
    async fn rss(
        &self,
        state: Data<&AppState>,
        request: &Request,
        /// Group slugs, repeated or comma-separated.
        #[oai(default)]
        group: Query<Vec<String>>,
        /// Kinds, repeated or comma-separated.
        #[oai(default)]
        kind: Query<Vec<String>>,
        /// Comma list of language codes.
        lang: Query<Option<String>>,
    ) -> FeedReply<RssMedia> {
        other_feed(
            &state,
            request,
            FeedFormat::Rss,
            None,
            &group,
            &kind,
            lang.as_deref(),
        )
        .await
    }

    /// Atom 1.0 of what is live.
    #[oai(path = "/feed.atom", method = "get")]
    async fn atom(
        &self,
        state: Data<&AppState>,
        request: &Request,
        /// Group slugs, repeated or comma-separated.
        #[oai(default)]
        group: Query<Vec<String>>,
        /// Kinds, repeated or comma-separated.
        #[oai(default)]
        kind: Query<Vec<String>>,
        /// Comma list of language codes.
        lang: Query<Option<String>>,
    ) -> FeedReply<AtomMedia> {
        other_feed(
            &state,
            request,
            FeedFormat::Atom,
            None,
            &group,
            &kind,
            lang.as_deref(),
        )
        .await
    }

    /// iCalendar of upcoming events and meetups; withdrawn ones stay as cancelled until they pass.
    #[oai(path = "/feed.ics", method = "get")]
    async fn ics(
        &self,
        state: Data<&AppState>,
        request: &Request,
        /// Group slugs, repeated or comma-separated.
        #[oai(default)]
        group: Query<Vec<String>>,
        /// Kinds, repeated or comma-separated.
        #[oai(default)]
        kind: Query<Vec<String>>,
        /// Comma list of language codes.
        lang: Query<Option<String>>,
    ) -> FeedReply<IcsMedia> {
        other_feed(
            &state,
            request,
            FeedFormat::Ics,
            None,
            &group,
            &kind,
            lang.as_deref(),
        )
        .await
    }

    /// JSON Feed 1.1 of one group.
    #[oai(path = "/groups/:slug/feed.json", method = "get")]
    async fn group_json_feed(
        &self,
        state: Data<&AppState>,
        request: &Request,
        slug: Path<String>,
        #[oai(default)] kind: Query<Vec<String>>,
        lang: Query<Option<String>>,
    ) -> FeedReply<JsonFeedMedia> {
        other_feed(
            &state,
            request,
            FeedFormat::Json,
            Some(&slug),
            &[],
            &kind,
            lang.as_deref(),
        )
        .await
    }

    /// RSS 2.0 of one group.
    #[oai(path = "/groups/:slug/feed.rss", method = "get")]
    async fn group_rss(
        &self,
        state: Data<&AppState>,
        request: &Request,
        slug: Path<String>,
        #[oai(default)] kind: Query<Vec<String>>,
        lang: Query<Option<String>>,
    ) -> FeedReply<RssMedia> {
        other_feed(
            &state,
            request,
            FeedFormat::Rss,
            Some(&slug),
            &[],
            &kind,
            lang.as_deref(),
        )
        .await
    }

    /// Atom 1.0 of one group.
    #[oai(path = "/groups/:slug/feed.atom", method = "get")]
    async fn group_atom(
        &self,
        state: Data<&AppState>,
        request: &Request,
        slug: Path<String>,
        #[oai(default)] kind: Query<Vec<String>>,
        lang: Query<Option<String>>,
    ) -> FeedReply<AtomMedia> {
        other_feed(
            &state,
            request,
            FeedFormat::Atom,
            Some(&slug),
            &[],
            &kind,
            lang.as_deref(),
        )
        .await
    }

    /// iCalendar of one group's upcoming events and meetups.
    #[oai(path = "/groups/:slug/feed.ics", method = "get")]
    async fn group_ics(
        &self,
        state: Data<&AppState>,
        request: &Request,
        slug: Path<String>,
        #[oai(default)] kind: Query<Vec<String>>,
        lang: Query<Option<String>>,
    ) -> FeedReply<IcsMedia> {
        other_feed(
            &state,
            request,
            FeedFormat::Ics,
            Some(&slug),
            &[],
            &kind,
            lang.as_deref(),
        )
        .await
    }
}
