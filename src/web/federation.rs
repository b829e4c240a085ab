//! The fediverse's doors: WebFinger and NodeInfo, the actors (a group's
//! page answers `application/activity+json` with its actor, an entry's
//! page with its note), their inboxes, outboxes and follower counts.
//! Answers are JSON; errors are problem documents like the API's.

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderValue, StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Body, Endpoint, IntoResponse, Request, Response, Route, get, handler, post};
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::domain::federation::documents::{self, ACTIVITY_JSON, PAGE_SIZE};
use crate::error::AppError;
use crate::service::federation::inbox::{self, InboxRequest};
use crate::service::federation::{self as federation, LocalActor, publish};

const JRD_JSON: &str = "application/jrd+json; charset=utf-8";
const NODEINFO_JSON: &str =
    "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"";

/// The fediverse's addresses; `group_page` and `entry_page` answer
/// browsers at the group's and the entry's address, which are also the
/// IRIs of its actor and its note.
pub fn mount(
    route: Route,
    group_page: BoxEndpoint<'static>,
    entry_page: BoxEndpoint<'static>,
) -> Route {
    route
        .at(
            "/groups/:slug",
            Negotiated {
                page: group_page,
                activity: get(group_actor),
            },
        )
        .at(
            "/entries/:id",
            Negotiated {
                page: entry_page,
                activity: get(entry_note),
            },
        )
        .at("/.well-known/webfinger", get(webfinger))
        .at("/.well-known/nodeinfo", get(nodeinfo_links))
        .at("/nodeinfo/2.1", get(nodeinfo))
        .at("/inbox", post(shared_inbox))
        .at("/actor", get(site_actor))
        .at("/actor/inbox", post(site_inbox))
        .at("/actor/outbox", get(site_outbox))
        .at("/actor/followers", get(site_followers))
        .at("/groups/:slug/inbox", post(group_inbox))
        .at("/groups/:slug/outbox", get(group_outbox))
        .at("/groups/:slug/followers", get(group_followers))
}

/// Whether a request asks for ActivityPub rather than the page.
pub fn wants_activity(request: &Request) -> bool {
    request.header(header::ACCEPT).is_some_and(|accept| {
        accept.contains("application/activity+json")
            || (accept.contains("application/ld+json")
                && accept.contains("https://www.w3.org/ns/activitystreams"))
    })
}

fn json(value: &Value, content_type: &'static str) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::VARY, "Accept")
        .body(value.to_string())
}

/// The page or the ActivityPub document at one address, by `Accept`.
pub struct Negotiated<P, A> {
    pub page: P,
    pub activity: A,
}

impl<P: Endpoint, A: Endpoint> Endpoint for Negotiated<P, A> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let mut response = if wants_activity(&request) {
            self.activity.call(request).await?.into_response()
        } else {
            self.page.call(request).await?.into_response()
        };
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Accept"));
        Ok(response)
    }
}

#[derive(Deserialize)]
pub struct WebFingerQuery {
    resource: Option<String>,
}

#[handler]
pub async fn webfinger(
    state: Data<&AppState>,
    Query(query): Query<WebFingerQuery>,
) -> poem::Result<Response> {
    let resource = query
        .resource
        .ok_or_else(|| AppError::BadRequest("resource is required: acct:NAME@HOST".into()))?;
    let found = federation::webfinger(&state.services, &resource).await?;
    Ok(json(&found, JRD_JSON))
}

#[handler]
pub fn nodeinfo_links(state: Data<&AppState>) -> Response {
    let href = format!("{}/nodeinfo/2.1", state.config.public_base_url());
    json(&documents::nodeinfo_links(&href), "application/json")
}

#[handler]
pub async fn nodeinfo(state: Data<&AppState>) -> poem::Result<Response> {
    let snapshot = state.feeds.snapshot();
    let now = snapshot.built_at;
    let posts = snapshot
        .items
        .iter()
        .filter(|item| item.is_live(now))
        .count();
    let info = federation::nodeinfo(&state.services, posts as u64).await?;
    Ok(json(&info, NODEINFO_JSON))
}

async fn actor(state: &AppState, slug: Option<&str>) -> Result<LocalActor, AppError> {
    federation::find_actor(&state.services, slug).await
}

#[handler]
pub async fn site_actor(state: Data<&AppState>) -> poem::Result<Response> {
    let found = actor(&state, None).await?;
    let document = federation::actor_document(&state.services, &found).await?;
    Ok(json(&document, ACTIVITY_JSON))
}

#[handler]
pub async fn group_actor(
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> poem::Result<Response> {
    let found = actor(&state, Some(&slug)).await?;
    let document = federation::actor_document(&state.services, &found).await?;
    Ok(json(&document, ACTIVITY_JSON))
}

/// An entry's note, while it is published.
#[handler]
pub fn entry_note(state: Data<&AppState>, Path(id): Path<String>) -> poem::Result<Response> {
    let snapshot = state.feeds.snapshot();
    let item = id
        .parse::<i64>()
        .ok()
        .and_then(|id| snapshot.live_item(id))
        .ok_or_else(|| AppError::not_found("published entry"))?;
    let note = documents::standalone(publish::note(&state.services, item));
    Ok(json(&note, ACTIVITY_JSON))
}

/// Reads an inbox request (the body limit has been applied by then).
async fn take(
    state: &AppState,
    owner: Option<&LocalActor>,
    request: &Request,
    body: Body,
) -> poem::Result<Response> {
    let body = body
        .into_bytes()
        .await
        .map_err(|_| AppError::TooLarge("the activity is too large".into()))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in request.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.iter_mut().find(|(known, _)| known == name.as_str()) {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            None => headers.push((name.as_str().to_string(), value)),
        }
    }
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let received = InboxRequest {
        method: request.method().as_str(),
        path_and_query,
        headers,
        body: &body,
    };
    inbox::receive(&state.services, owner, &received).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[handler]
pub async fn shared_inbox(
    state: Data<&AppState>,
    request: &Request,
    body: Body,
) -> poem::Result<Response> {
    take(&state, None, request, body).await
}

#[handler]
pub async fn site_inbox(
    state: Data<&AppState>,
    request: &Request,
    body: Body,
) -> poem::Result<Response> {
    let owner = actor(&state, None).await?;
    take(&state, Some(&owner), request, body).await
}

#[handler]
pub async fn group_inbox(
    state: Data<&AppState>,
    Path(slug): Path<String>,
    request: &Request,
    body: Body,
) -> poem::Result<Response> {
    let owner = actor(&state, Some(&slug)).await?;
    take(&state, Some(&owner), request, body).await
}

#[handler]
pub async fn site_followers(state: Data<&AppState>) -> poem::Result<Response> {
    let found = actor(&state, None).await?;
    let collection = federation::followers_collection(&state.services, &found).await?;
    Ok(json(&collection, ACTIVITY_JSON))
}

#[handler]
pub async fn group_followers(
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> poem::Result<Response> {
    let found = actor(&state, Some(&slug)).await?;
    let collection = federation::followers_collection(&state.services, &found).await?;
    Ok(json(&collection, ACTIVITY_JSON))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

/// An outbox: the `Create` of each published entry of the actor (every
/// group's for the site), newest first, `PAGE_SIZE` a page.
fn outbox(state: &AppState, found: &LocalActor, page: Option<String>) -> poem::Result<Response> {
    let outbox = format!("{}/outbox", found.id);
    let snapshot = state.feeds.snapshot();
    let now = state.services.now();
    let mut items: Vec<_> = snapshot
        .items
        .iter()
        .filter(|item| item.is_live(now) && !item.group.removed)
        .filter(|item| {
            found
                .group
                .as_ref()
                .is_none_or(|group| group.id == item.group.id)
        })
        .collect();
    items.sort_by_key(|item| std::cmp::Reverse((item.published_at(), item.id)));
    let Some(page) = page else {
        let first = format!("{outbox}?page=1");
        return Ok(json(
            &documents::collection(&outbox, items.len() as u64, Some(&first)),
            ACTIVITY_JSON,
        ));
    };
    let number = page
        .parse::<usize>()
        .ok()
        .filter(|number| *number >= 1 && *number <= 10_000)
        .ok_or_else(|| AppError::BadRequest("page must be a number from 1".into()))?;
    let start = (number - 1) * PAGE_SIZE;
    let activities = items
        .iter()
        .skip(start)
        .take(PAGE_SIZE)
        .map(|item| {
            publish::create_activity(&state.services, item, publish::note(&state.services, item))
        })
        .collect();
    let next = (start + PAGE_SIZE < items.len()).then(|| format!("{outbox}?page={}", number + 1));
    Ok(json(
        &documents::collection_page(
            &format!("{outbox}?page={number}"),
            &outbox,
            activities,
            next.as_deref(),
        ),
        ACTIVITY_JSON,
    ))
}

#[handler]
pub async fn site_outbox(
    state: Data<&AppState>,
    Query(query): Query<PageQuery>,
) -> poem::Result<Response> {
    let found = actor(&state, None).await?;
    outbox(&state, &found, query.page)
}

#[handler]
pub async fn group_outbox(
    state: Data<&AppState>,
    Path(slug): Path<String>,
    Query(query): Query<PageQuery>,
) -> poem::Result<Response> {
    let found = actor(&state, Some(&slug)).await?;
    outbox(&state, &found, query.page)
}
