//! The pages other sites frame: `/embed/groups/{slug}` (a group's live
//! entries) and `/embed/entries/{id}` (one live entry). They are the only
//! pages any site may frame (`security`), have no session, no cookie and
//! no site header, and tell the framing page their height
//! (`embed-frame.js` posts `{type: "newsfeed:height", height}`).

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Response, handler};

use super::assets;
use super::context::{WebError, respond};
use super::public::Card;
use crate::AppState;
use crate::domain::codes;
use crate::domain::embed::{ListOptions, Theme};
use crate::error::AppError;
use crate::feeds::{FeedParams, FeedQuery};
use crate::service::groups;

/// What every embed page shows around its content.
struct Frame {
    title: String,
    /// What the site calls itself, for the link back to it.
    site: String,
    theme: &'static str,
    css: &'static str,
    js: &'static str,
}

impl Frame {
    fn new(state: &AppState, title: String, theme: Theme) -> Self {
        Self {
            title,
            site: state.feeds.settings().site_name.clone(),
            theme: theme.as_str(),
            css: assets::url("embed.css"),
            js: assets::url("embed-frame.js"),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "embed/group.html")]
struct GroupFrame {
    frame: Frame,
    slug: String,
    name: String,
    cards: Vec<Card>,
}

#[derive(Template, WebTemplate)]
#[template(path = "embed/entry.html")]
struct EntryFrame {
    frame: Frame,
    card: Card,
}

#[derive(Template, WebTemplate)]
#[template(path = "embed/error.html")]
struct ErrorFrame {
    frame: Frame,
    detail: String,
}

/// The page of `error`, framable like the page that was asked for.
fn error_frame(state: &AppState, error: AppError) -> Response {
    let (status, title, detail) = WebError::App(error).explained();
    let frame = Frame::new(state, title.into(), Theme::default());
    respond(ErrorFrame { frame, detail }, status)
}

/// A page shown, cached as the feeds are (it is public and shows what
/// they publish), or the page of its error.
fn cached(state: &AppState, page: Result<Response, AppError>) -> Response {
    match page {
        Ok(mut response) => {
            let caching = &state.feeds.settings().feed_caching;
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, caching.cache_control.clone());
            response
        }
        Err(error) => error_frame(state, error),
    }
}

/// `GET /embed/groups/{slug}?kind=&lang=&limit=&theme=`: the group's live
/// entries in feed order, filtered as its feeds are (`kind`, `lang`),
/// at most `limit` (10 unless set, at most 100).
#[handler]
pub async fn group_page(
    state: Data<&AppState>,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    cached(&state, render_group(&state, &slug, &query).await)
}

async fn render_group(
    state: &AppState,
    slug: &str,
    query: &HashMap<String, String>,
) -> Result<Response, AppError> {
    let param = |name: &str| query.get(name).map(String::as_str);
    let options =
        ListOptions::parse(param("limit"), param("theme")).map_err(AppError::BadRequest)?;
    let filter = FeedQuery::parse(&FeedParams {
        kind: param("kind").into_iter().collect(),
        lang: param("lang"),
        ..FeedParams::default()
    })
    .map_err(AppError::BadRequest)?;
    let group = groups::get(&state.services, None, slug).await?;
    let snapshot = state.feeds.snapshot();
    let now = snapshot.built_at;
    // The first language asked for picks translated texts, as in the feeds.
    let language = filter
        .languages
        .first()
        .map(|code| String::from_utf8_lossy(&code).into_owned());
    let cards = snapshot
        .items
        .iter()
        .filter(|item| {
            item.group.id == group.id
                && item.is_live(now)
                && (filter.kinds.is_empty() || filter.kinds.contains(&item.kind))
                && item.speaks(&filter.languages)
        })
        .take(options.limit)
        .map(|item| Card::in_language(item, language.as_deref()))
        .collect();
    let title = format!("News from {}", group.name);
    Ok(respond(
        GroupFrame {
            frame: Frame::new(state, title, options.theme),
            slug: group.slug,
            name: group.name,
            cards,
        },
        StatusCode::OK,
    ))
}

/// `GET /embed/entries/{id}?theme=`: one live entry; anything else (a
/// draft, an entry in review, one that ended or was unpublished) is not found.
#[handler]
pub async fn entry_page(
    state: Data<&AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    cached(&state, render_entry(&state, &id, &query))
}

fn render_entry(
    state: &AppState,
    id: &str,
    query: &HashMap<String, String>,
) -> Result<Response, AppError> {
    let theme = query.get("theme").map(String::as_str);
    let options = ListOptions::parse(None, theme).map_err(AppError::BadRequest)?;
    let snapshot = state.feeds.snapshot();
    let item = id
        .parse::<i64>()
        .ok()
        .and_then(|id| snapshot.live_item(id))
        .ok_or_else(|| AppError::not_found("published entry"))?;
    let language = query
        .get("lang")
        .and_then(|lang| codes::preferred_language(lang));
    let card = Card::in_language(item, language.as_deref());
    Ok(respond(
        EntryFrame {
            frame: Frame::new(state, card.title.clone(), options.theme),
            card,
        },
        StatusCode::OK,
    ))
}
