//! The public pages: what is live, one entry, the group directory, a
//! group's page with its feeds, and the access request form. The start
//! page and entry pages come from the feed snapshot, never the database.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::http::StatusCode;
use poem::web::Path;

use super::context::{Ctx, Layout, WebError, WebResult, respond};
use super::display::{self, Choice};
use super::forms::FormState;
use crate::domain::access_request::AccessRequestForm;
use crate::error::AppError;
use crate::feeds::{self, FeedHub, Item, QgisQuery, Rendered};
use crate::service::{access_requests, groups};

/// A live entry as the public pages show it.
pub struct Card {
    pub id: i64,
    pub title: String,
    pub group_slug: String,
    pub group_name: String,
    pub kind: &'static str,
    pub published: String,
    pub dates: String,
    pub place: String,
    pub map: String,
    pub online: String,
    pub goal: String,
    pub image: String,
    /// Sanitized when it was stored.
    pub content: String,
    pub url: String,
    pub call_to_action: String,
    pub sticky: bool,
}

impl Card {
    fn of(item: &Item) -> Self {
        let fields = &item.fields;
        Self {
            id: item.id,
            title: fields.title.clone(),
            group_slug: item.group.slug.clone(),
            group_name: item.group.name.clone(),
            kind: display::kind_label(item.kind),
            published: display::utc(item.published_at()),
            dates: display::event_dates(fields).unwrap_or_default(),
            place: fields.location_name.clone().unwrap_or_default(),
            map: display::map_link(fields).unwrap_or_default(),
            online: fields.online_url.clone().unwrap_or_default(),
            goal: match (fields.goal_amount, &fields.currency) {
                (Some(goal), Some(currency)) => format!(
                    "{goal} {currency}{}",
                    fields
                        .deadline
                        .map(|d| format!(" by {}", display::utc(d)))
                        .unwrap_or_default()
                ),
                _ => String::new(),
            },
            image: item.image.clone(),
            content: fields.content.clone(),
            url: fields.url.clone(),
            call_to_action: fields
                .call_to_action
                .clone()
                .unwrap_or_else(|| "Read more".into()),
            sticky: item.sticky,
        }
    }
}

/// Links to every feed format of a path prefix (`` or `/groups/x`).
fn feed_links(prefix: &str, title: &str) -> Vec<(String, &'static str, String)> {
    [
        ("RSS", "application/rss+xml", "rss"),
        ("Atom", "application/atom+xml", "atom"),
        ("JSON Feed", "application/feed+json", "json"),
        ("iCalendar", "text/calendar", "ics"),
    ]
    .into_iter()
    .map(|(name, kind, extension)| {
        (
            format!("{title} ({name})"),
            kind,
            format!("{prefix}/feed.{extension}"),
        )
    })
    .collect()
}

#[derive(Template)]
#[template(path = "public/home.html")]
struct HomePage {
    page: Layout,
    cards: Vec<Card>,
    languages: String,
}

/// `GET /` for browsers: what is live, in feed order, rendered once per
/// snapshot and language filter (so it holds nothing personal).
pub fn home(hub: &FeedHub, query: &QgisQuery) -> Arc<Rendered> {
    let snapshot = hub.snapshot();
    let page_query = QgisQuery {
        json: false,
        after: None,
        point: None,
        ..*query
    };
    feeds::with_key(
        |key| page_query.write_cache_key(key),
        |key| {
            snapshot.cached(key, || {
                let now = snapshot.built_at;
                let cards = snapshot
                    .items
                    .iter()
                    .filter(|item| item.is_live(now) && item.speaks(&query.languages))
                    .map(Card::of)
                    .collect();
                let mut page = Layout::public("News from the user groups", "news");
                page.alternates = feed_links("", "All news");
                let body = HomePage {
                    page,
                    cards,
                    languages: query.languages.to_vec().join(", "),
                }
                .render()
                .unwrap_or_else(|error| {
                    tracing::error!(%error, "start page failed to render");
                    String::new()
                });
                Rendered::new(body, "text/html; charset=utf-8", snapshot.modified_at)
            })
        },
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "public/entry.html")]
struct EntryPage {
    page: Layout,
    card: Card,
}

#[handler]
pub async fn entry_page(ctx: Ctx<'_>, Path(id): Path<String>) -> WebResult {
    let snapshot = ctx.state.feeds.snapshot();
    let now = snapshot.built_at;
    let item = id
        .parse::<i64>()
        .ok()
        .and_then(|id| {
            snapshot
                .items
                .iter()
                .find(|item| item.id == id && item.is_live(now))
        })
        .ok_or_else(|| WebError::App(AppError::not_found("published entry")))?;
    let card = Card::of(item);
    let page = ctx.layout(card.title.clone(), "news");
    Ok(respond(EntryPage { page, card }, StatusCode::OK))
}

/// QGIS-Feed's entry path `/{pk}/`: a permanent redirect to the entry's
/// page (old links keep working); anything but a number is not found.
#[handler]
pub fn qgis_feed_entry(Path(pk): Path<String>) -> poem::Result<poem::web::Redirect> {
    let digits = !pk.is_empty() && pk.bytes().all(|byte| byte.is_ascii_digit());
    match pk.parse::<i64>() {
        Ok(pk) if digits => Ok(poem::web::Redirect::permanent(format!("/entries/{pk}"))),
        _ => Err(poem::Error::from_status(StatusCode::NOT_FOUND)),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "public/groups.html")]
struct GroupsPage {
    page: Layout,
    groups: Vec<(String, String, String, String)>,
}

#[handler]
pub async fn directory(ctx: Ctx<'_>) -> WebResult {
    let groups = groups::list_public(ctx.services()).await?;
    let page = ctx.layout("User groups", "groups");
    let rows = groups
        .into_iter()
        .map(|group| (group.slug, group.name, group.country, group.website))
        .collect();
    Ok(respond(GroupsPage { page, groups: rows }, StatusCode::OK))
}

#[derive(Template, WebTemplate)]
#[template(path = "public/group.html")]
struct GroupPage {
    page: Layout,
    name: String,
    country: String,
    website: String,
    suspended: bool,
    cards: Vec<Card>,
    feeds: Vec<(String, &'static str, String)>,
}

#[handler]
pub async fn group_page(ctx: Ctx<'_>, Path(slug): Path<String>) -> WebResult {
    let group = groups::get(ctx.services(), None, &slug).await?;
    let snapshot = ctx.state.feeds.snapshot();
    let now = snapshot.built_at;
    let cards = snapshot
        .items
        .iter()
        .filter(|item| item.group.id == group.id && item.is_live(now))
        .map(Card::of)
        .collect();
    let feeds = feed_links(&format!("/groups/{}", group.slug), &group.name);
    let mut page = ctx.layout(group.name.clone(), "groups");
    page.alternates = feeds.clone();
    Ok(respond(
        GroupPage {
            page,
            suspended: group.status != crate::domain::GroupStatus::Active,
            name: group.name,
            country: group.country,
            website: group.website,
            cards,
            feeds,
        },
        StatusCode::OK,
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "public/request_access.html")]
struct RequestAccessPage {
    page: Layout,
    form: FormState,
    countries: Vec<Choice>,
    sent: bool,
}

fn request_page(ctx: &Ctx<'_>, form: FormState, sent: bool, status: StatusCode) -> WebResult {
    let page = ctx
        .layout("Request access for your group", "groups")
        .with_errors(&form.errors);
    Ok(respond(
        RequestAccessPage {
            page,
            form,
            countries: display::countries(),
            sent,
        },
        status,
    ))
}

#[handler]
pub async fn request_access_form(ctx: Ctx<'_>) -> WebResult {
    request_page(&ctx, FormState::default(), false, StatusCode::OK)
}

#[handler]
pub async fn request_access(ctx: Ctx<'_>, body: Vec<u8>) -> WebResult {
    let form = ctx.form(&body)?;
    let request = AccessRequestForm {
        group_name: form.text("group_name").into(),
        slug: form.optional("slug").map(str::to_string),
        country: form.text("country").into(),
        website: form.text("website").into(),
        contact_email: form.text("contact_email").into(),
        message: form.text("message").into(),
    };
    match access_requests::create(ctx.services(), &request, &ctx.client).await {
        Ok(_) => request_page(&ctx, FormState::new(form.values()), true, StatusCode::OK),
        Err(AppError::Validation(errors)) => request_page(
            &ctx,
            FormState::with_errors(form.values(), errors),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::RateLimited { retry_after }) => {
            let errors = vec![crate::domain::FieldError::new(
                "group_name",
                format!(
                    "too many requests from your address: try again in {} minutes",
                    retry_after.div_ceil(60)
                ),
            )];
            request_page(
                &ctx,
                FormState::with_errors(form.values(), errors),
                false,
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(other) => Err(other.into()),
    }
}
