//! Public feeds: the QGIS news feed at `/` and JSON Feed, RSS, Atom and
//! iCalendar, whole or per group. Served from the in-memory snapshot.

use std::marker::PhantomData;
use std::net::IpAddr;

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
use crate::feeds::{self, Caching, FeedFormat, FeedParams, FeedQuery, QgisQuery};
use crate::middleware::client_addr_of;

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
    /// The QGIS array, the JSON Feed for sites (`json=1` with a feed
    /// parameter), the page for browsers.
    const TYPES: &'static [(&'static str, &'static str)] = &[
        ("application/json", "array"),
        ("application/feed+json", "object"),
        ("text/html", "string"),
    ];
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
                header(
                    "Cache-Control",
                    "`public, max-age=N, stale-while-revalidate=600, stale-if-error=86400`: fresh for `--feed-max-age` seconds (60), then a shared cache (a CDN) may serve its copy while it fetches a new one, or while the service fails.",
                ),
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

/// What `GET /` answers: the QGIS array, a JSON Feed or a refusal whole,
/// the page for a browser, or `Missed` when the JSON Feed names a group
/// this snapshot does not have (the documented route refreshes it first).
pub(crate) enum Home {
    Answer(Response),
    Page(QgisQuery),
    Missed,
}

/// Answers `GET /` for QGIS and `json=1` from the snapshot: the QGIS array
/// to QGIS agents (whatever else they send) and to `json=1` without a feed
/// parameter (as on feed.qgis.org, which qgis.org's news bar polls); the
/// JSON Feed of `/feed.json` to another client that asks for what only the
/// feeds offer (see [`FeedParams::asks_for_feed`]). `peer` is the address
/// the connection comes from.
pub(crate) fn home_answer(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    query: Result<QgisQuery, String>,
    feed: &FeedParams<'_>,
) -> Home {
    match query {
        Ok(query) if query.json && !query.qgis_agent && feed.asks_for_feed() => {
            if query.after.is_some() || query.point.is_some() {
                return Home::Answer(feeds::plain_error(
                    StatusCode::BAD_REQUEST,
                    "after, lat and lon ask for the QGIS array, and group, kind, country, \
                     limit and before for a JSON Feed: send the one or the other",
                ));
            }
            let caching = &state.feeds.settings().home_caching;
            feed_answer_now(state, headers, FeedFormat::Json, None, feed, caching)
                .map_or(Home::Missed, Home::Answer)
        }
        Ok(mut query) if query.json => {
            // Counted in the audience, and placed by its address when needed.
            let agent = headers
                .get(poem::http::header::USER_AGENT)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            let config = &state.config;
            let client_addr =
                || client_addr_of(peer, headers, config.trust_proxy, &config.trusted_proxies);
            state.feeds.observe(agent, client_addr, &mut query);
            Home::Answer(
                feeds::qgis_home(&state.feeds, &query)
                    .respond(headers, &state.feeds.settings().home_caching),
            )
        }
        Ok(query) => Home::Page(query),
        Err(message) => Home::Answer(feeds::plain_error(StatusCode::BAD_REQUEST, &message)),
    }
}

/// Answers `/feed.*` and `/groups/{slug}/feed.*` (and `json=1` for sites)
/// from the snapshot, with `caching`'s headers; refreshes the snapshot
/// first when it does not know the group.
pub(crate) async fn feed_answer(
    state: &AppState,
    request: &HeaderMap,
    format: FeedFormat,
    group_path: Option<&str>,
    params: &FeedParams<'_>,
    caching: &Caching,
) -> Response {
    match FeedQuery::parse(params) {
        Ok(query) => respond_feed(
            state.feeds.feed(format, query, group_path).await,
            request,
            caching,
        ),
        Err(message) => feeds::plain_error(StatusCode::BAD_REQUEST, &message),
    }
}

/// [`feed_answer`] from the snapshot as it is: `None` when it does not know
/// the group (the caller hands the request to [`feed_answer`]).
pub(crate) fn feed_answer_now(
    state: &AppState,
    request: &HeaderMap,
    format: FeedFormat,
    group_path: Option<&str>,
    params: &FeedParams<'_>,
    caching: &Caching,
) -> Option<Response> {
    let query = match FeedQuery::parse(params) {
        Ok(query) => query,
        Err(message) => return Some(feeds::plain_error(StatusCode::BAD_REQUEST, &message)),
    };
    match state.feeds.feed_now(format, query, group_path) {
        Err(refusal) if refusal.status == StatusCode::NOT_FOUND => None,
        rendered => Some(respond_feed(rendered, request, caching)),
    }
}

fn respond_feed(
    rendered: Result<std::sync::Arc<feeds::Rendered>, feeds::FeedRefusal>,
    request: &HeaderMap,
    caching: &Caching,
) -> Response {
    match rendered {
        Ok(rendered) => rendered.respond(request, caching),
        Err(refusal) => feeds::plain_error(refusal.status, &refusal.message),
    }
}

/// The parameters of a documented feed operation, as [`FeedParams`].
fn params<'a>(
    group: Option<&'a [String]>,
    kind: &'a [String],
    country: &'a [String],
    lang: &'a Option<String>,
    limit: &'a Option<String>,
    before: &'a Option<String>,
) -> FeedParams<'a> {
    let strs = |values: &'a [String]| values.iter().map(String::as_str).collect();
    FeedParams {
        group: strs(group.unwrap_or_default()),
        kind: strs(kind),
        country: strs(country),
        lang: lang.as_deref(),
        limit: limit.as_deref(),
        before: before.as_deref(),
    }
}

async fn other_feed<M>(
    state: &AppState,
    request: &Request,
    format: FeedFormat,
    group_path: Option<&str>,
    params: FeedParams<'_>,
) -> FeedReply<M> {
    let caching = &state.feeds.settings().feed_caching;
    FeedReply::new(
        feed_answer(
            state,
            request.headers(),
            format,
            group_path,
            &params,
            caching,
        )
        .await,
    )
}

/// The operations of `/` and of the eight feed routes (every format, whole
/// and of one group), which share their parameters: each written once here.
macro_rules! feeds_api {
    (
        params: {
            group: $group_doc:tt,
            kind: $kind_doc:tt,
            lang: $lang_doc:tt,
            country: $country_doc:tt,
            limit: $limit_doc:tt,
            before: $before_doc:tt $(,)?
        }
        // Each route: its operation, path, format and media; `by group` for
        // the `group` parameter, `of slug` for a group's own path.
        routes: [$(
            $(#[doc = $doc:tt])*
            $name:ident $path:tt $format:ident $media:ident $(by $group:ident)? $(of $slug:ident)?;
        )*]
    ) => {
        #[OpenApi(tag = "ApiTags::Feeds")]
        impl FeedsApi {
            /// The QGIS news feed, a JSON Feed for sites, or a page of what is published.
            ///
            /// With a User-Agent containing `QGIS`, or with `json=1` and none of
            /// `group`, `kind`, `country`, `limit` and `before`: a JSON array of at
            /// most 20 (configurable) entries, sticky first, then by priority, then
            /// newest: `{pk, publish_from, publish_to, title, image, content, url, sticky}`.
            /// With `after`, QGIS 3.36 and later (`QGIS/33600` or more in the
            /// User-Agent) and other clients also get the entries that expired or were
            /// withdrawn since, with a past `publish_to`; older QGIS gets only entries
            /// published or changed since. QGIS ignores `group`, `kind`, `country`,
            /// `limit` and `before`.
            ///
            /// With `json=1` and any of `group`, `kind`, `country`, `limit` or `before`
            /// from another client (a site): the JSON Feed 1.1 that `/feed.json` answers
            /// to the same parameters, with `next_url` when more entries follow
            /// (`after`, `lat` and `lon` are then refused).
            ///
            /// Otherwise an HTML page of what is live.
            #[oai(path = "/", method = "get")]
            #[allow(clippy::too_many_arguments)]
            async fn home(
                &self,
                state: Data<&AppState>,
                page: Data<&HomePage>,
                request: &Request,
                /// `1` for JSON whatever the User-Agent: the QGIS array, or a JSON Feed
                /// when a feed parameter is given too.
                json: Query<Option<String>>,
                /// Comma list of language codes (`en`, `pt_BR`; only the first two letters
                /// count). Entries without a language go to everyone; in the QGIS array,
                /// entries targeting the client's `lat`/`lon` too.
                lang: Query<Option<String>>,
                /// QGIS array: Unix seconds (integer or decimal): only what changed since.
                after: Query<Option<String>>,
                /// QGIS array: latitude of the client, with `lon`: entries with a target
                /// area reach only points inside it.
                lat: Query<Option<String>>,
                /// QGIS array: longitude of the client, with `lat`.
                lon: Query<Option<String>>,
                #[doc = $group_doc]
                #[oai(default)]
                group: Query<Vec<String>>,
                #[doc = $kind_doc]
                #[oai(default)]
                kind: Query<Vec<String>>,
                #[doc = $country_doc]
                #[oai(default)]
                country: Query<Vec<String>>,
                #[doc = $limit_doc]
                limit: Query<Option<String>>,
                #[doc = $before_doc]
                before: Query<Option<String>>,
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
                let feed = params(Some(&group), &kind, &country, &lang, &limit, &before);
                let peer = request.remote_addr().as_socket_addr().map(|addr| addr.ip());
                let headers = request.headers();
                FeedReply::new(match home_answer(&state, headers, peer, query, &feed) {
                    Home::Answer(response) => response,
                    Home::Missed => {
                        let caching = &state.feeds.settings().home_caching;
                        feed_answer(&state, headers, FeedFormat::Json, None, &feed, caching).await
                    }
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

            $(
                $(#[doc = $doc])*
                #[oai(path = $path, method = "get")]
                #[allow(clippy::too_many_arguments)]
                async fn $name(
                    &self,
                    state: Data<&AppState>,
                    request: &Request,
                    $(
                        /// The group's slug; an unknown one gets 404.
                        $slug: Path<String>,
                    )?
                    $(
                        #[doc = $group_doc]
                        #[oai(default)]
                        $group: Query<Vec<String>>,
                    )?
                    #[doc = $kind_doc]
                    #[oai(default)]
                    kind: Query<Vec<String>>,
                    #[doc = $lang_doc]
                    lang: Query<Option<String>>,
                    #[doc = $country_doc]
                    #[oai(default)]
                    country: Query<Vec<String>>,
                    #[doc = $limit_doc]
                    limit: Query<Option<String>>,
                    #[doc = $before_doc]
                    before: Query<Option<String>>,
                ) -> FeedReply<$media> {
                    let group_path = None $(.or(Some($slug.as_str())))?;
                    let groups = None $(.or(Some($group.as_slice())))?;
                    let params = params(groups, &kind, &country, &lang, &limit, &before);
                    other_feed(&state, request, FeedFormat::$format, group_path, params).await
                }
            )*
        }
    };
}

feeds_api! {
    params: {
        group: "Group slugs, repeated or comma-separated (any case): their entries. An unknown one gets 404.",
        kind: "Kinds (`event`, `meetup`, `crowdfunding`, `announcement`), repeated or comma-separated.",
        lang: "Comma list of language codes (`en`, `pt_BR`; only the first two letters count): entries in one of them, and entries for every language.",
        country: "ISO 3166-1 alpha-2 codes (`DE`, `ch`), repeated or comma-separated: the entries of groups based in one of those countries (the group's `country`; where an entry's target area lies does not count). A code that is not a country gets 400; a country without groups, an empty feed.",
        limit: "Most entries on a page, 1 to 100. Default: `--feed-max-items` (20) for JSON Feed, RSS and Atom, all for iCalendar.",
        before: "Paging: the cursor of the previous page's `next_url` (JSON Feed) or `<link rel=\"next\">` (RSS and Atom, RFC 5005), for the entries that follow that one in feed order (sticky first, then higher priority, then newest `publish_from`, then newest id). Written `{sticky 0|1}_{priority}_{publish_from}_{id}` (such as `0_0_1763900000_42`); it stays valid while entries come and go. iCalendar takes it too but links no next page.",
    }
    routes: [
        /// JSON Feed 1.1 of what is live, with `_newsfeed` fields (kind, group, event dates, place).
        ///
        /// A page of `limit` entries carries `next_url` when more follow.
        json_feed "/feed.json" Json JsonFeedMedia by group;
        /// RSS 2.0 of what is live; `<atom:link rel="next">` when more follow.
        rss "/feed.rss" Rss RssMedia by group;
        /// Atom 1.0 of what is live; `<link rel="next">` (RFC 5005) when more follow.
        atom "/feed.atom" Atom AtomMedia by group;
        /// iCalendar of upcoming events and meetups; withdrawn ones stay as cancelled until they pass.
        ics "/feed.ics" Ics IcsMedia by group;
        /// JSON Feed 1.1 of one group; `next_url` when more follow.
        group_json_feed "/groups/:slug/feed.json" Json JsonFeedMedia of slug;
        /// RSS 2.0 of one group; `<atom:link rel="next">` when more follow.
        group_rss "/groups/:slug/feed.rss" Rss RssMedia of slug;
        /// Atom 1.0 of one group; `<link rel="next">` when more follow.
        group_atom "/groups/:slug/feed.atom" Atom AtomMedia of slug;
        /// iCalendar of one group's upcoming events and meetups.
        group_ics "/groups/:slug/feed.ics" Ics IcsMedia of slug;
    ]
}
