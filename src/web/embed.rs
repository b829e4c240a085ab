//! The pages other sites frame: `/embed/groups/{slug}` (a group's live
//! entries) and `/embed/entries/{id}` (one live entry). They are the only
//! pages any site may frame (`security`), have no session, no cookie and
//! no site header, and tell the framing page their height
//! (`embed-frame.js` posts `{type: "newsfeed:height", height}`).

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Response, handler};

use super::context::{respond, sentence};
use super::public::Card;
use super::{assets, forms};
use crate::AppState;
use crate::domain::embed::{ListOptions, Target, Theme, frame_html};
use crate::domain::sanitize::escape_html;
use crate::error::{AppError, ProblemType};
use crate::feeds::FeedQuery;
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
fn error_frame(state: &AppState, error: &AppError) -> Response {
    let kind = ProblemType::of(error);
    let detail = if error.is_internal() {
        tracing::error!(%error, "embed page failed");
        "Something failed on our side; try again later.".to_string()
    } else {
        sentence(&error.to_string())
    };
    let frame = Frame::new(state, kind.title().into(), Theme::default());
    let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(ErrorFrame { frame, detail }, status)
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
    render_group(&state, &slug, &query)
        .await
        .unwrap_or_else(|error| error_frame(&state, &error))
}

async fn render_group(
    state: &AppState,
    slug: &str,
    query: &HashMap<String, String>,
) -> Result<Response, AppError> {
    let param = |name: &str| query.get(name).map(String::as_str);
    let options =
        ListOptions::parse(param("limit"), param("theme")).map_err(AppError::BadRequest)?;
    let filter =
        FeedQuery::parse([], param("kind"), param("lang")).map_err(AppError::BadRequest)?;
    let group = groups::get(&state.services, None, slug).await?;
    let snapshot = state.feeds.snapshot();
    let now = snapshot.built_at;
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
        .map(Card::of)
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
    render_entry(&state, &id, &query).unwrap_or_else(|error| error_frame(&state, &error))
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
    let card = Card::of(item);
    Ok(respond(
        EntryFrame {
            frame: Frame::new(state, card.title.clone(), options.theme),
            card,
        },
        StatusCode::OK,
    ))
}

/// What a group's page offers to paste into another site.
pub struct Snippets {
    /// `<script src=".../embed.js">` and `<newsfeed-entries>`.
    pub script: String,
    /// A frame of `/embed/groups/{slug}` and the listener that sizes it.
    pub frame: String,
    /// The group page's address, for oEmbed consumers.
    pub page: String,
    /// The oEmbed answer for it.
    pub oembed: String,
}

impl Snippets {
    pub fn of_group(public_url: &str, slug: &str, name: &str) -> Self {
        let target = Target::Group(slug.to_string());
        let page = format!("{public_url}/groups/{slug}");
        let frame = frame_html(
            &format!("{public_url}{}", target.frame_path()),
            &format!("News from {name}"),
            target.frame_size(None, None),
        );
        let origin = escape_html(&origin_of(public_url));
        Self {
            script: format!(
                "<script src=\"{public_url}/embed.js\" async></script>\n\
                 <newsfeed-entries group=\"{slug}\" limit=\"5\" theme=\"light\"></newsfeed-entries>"
            ),
            frame: format!(
                "{frame}\n<script>\n\
                 addEventListener(\"message\", (event) => {{\n  \
                 if (event.origin !== \"{origin}\" || event.data?.type !== \"newsfeed:height\") return;\n  \
                 for (const frame of document.querySelectorAll(\"iframe\"))\n    \
                 if (frame.contentWindow === event.source) frame.style.height = event.data.height + \"px\";\n\
                 }});\n</script>"
            ),
            oembed: oembed_url(public_url, &page),
            page,
        }
    }
}

/// `https://host:port` of a public URL (which may carry a path).
fn origin_of(public_url: &str) -> String {
    url::Url::parse(public_url)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_else(|_| public_url.to_string())
}

/// The oEmbed discovery link of the page at `page_url` (for `Layout::alternates`).
pub fn discovery(public_url: &str, page_url: &str, title: &str) -> (String, &'static str, String) {
    (
        title.to_string(),
        "application/json+oembed",
        oembed_url(public_url, page_url),
    )
}

fn oembed_url(public_url: &str, page_url: &str) -> String {
    format!(
        "{public_url}/oembed?url={}&format=json",
        forms::encode(page_url)
    )
}
