//! The public pages: what is live, one entry, the group directory, a
//! group's page with its feeds, and the access request form. The start
//! page and entry pages come from the feed snapshot, never the database.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use poem::Response;
use poem::handler;
use poem::http::{HeaderMap, StatusCode};
use poem::web::{Path, Query};

use super::calendar_links;
use super::context::{Ctx, Layout, WebError, WebResult, respond};
use super::display::{self, Badge, Choice, Pager};
use super::embed_links::{self, Snippets};
use super::forms::FormState;
use super::search::{self, SearchBox};
use crate::AppState;
use crate::domain::access_request::AccessRequestForm;
use crate::domain::entry::EntryFields;
use crate::domain::{EntryKind, codes, recurrence, schedule};
use crate::error::{AppError, wait_in_words};
use crate::feeds::{self, FeedHub, Item, QgisQuery, Rendered};
use crate::service::{self, access_requests, calendar, groups};

/// A live entry as the public pages show it.
pub struct Card {
    pub id: i64,
    pub title: String,
    pub group_slug: String,
    pub group_name: String,
    pub kind: &'static str,
    pub published: String,
    /// Cancelled, postponed or tentative events.
    pub status: Option<Badge>,
    /// When the (next) occurrence takes place, in the venue's zone.
    pub dates: String,
    /// Whether `dates` is the next of a series.
    pub series: bool,
    /// The series' rule in words, or empty.
    pub rule: String,
    pub attendance: &'static str,
    pub place: String,
    pub map: String,
    /// Only for events attended online.
    pub online: String,
    pub campaign: Option<Campaign>,
    pub image: String,
    pub image_alt: String,
    /// Sanitized when it was stored.
    pub content: String,
    pub url: String,
    pub call_to_action: String,
    pub sticky: bool,
    /// The language of its texts, when known (the `lang` attribute).
    pub language: String,
}

/// A crowdfunding campaign's goal, what it raised and until when.
pub struct Campaign {
    pub goal: String,
    pub raised: String,
    pub goal_amount: f64,
    pub raised_amount: f64,
    /// Raised of goal, 0 to 100.
    pub percent: u32,
    pub deadline: String,
}

impl Campaign {
    fn of(fields: &EntryFields) -> Option<Self> {
        let (goal, currency) = (fields.goal_amount?, fields.currency.as_ref()?);
        let raised = fields.raised_amount.unwrap_or(0.0).max(0.0);
        let percent = if goal > 0.0 {
            (raised / goal * 100.0).clamp(0.0, 100.0) as u32
        } else {
            0
        };
        Some(Self {
            goal: format!("{goal} {currency}"),
            raised: format!("{raised} {currency}"),
            goal_amount: goal,
            raised_amount: raised.min(goal),
            percent,
            deadline: fields.deadline.map(display::utc).unwrap_or_default(),
        })
    }
}

impl Card {
    pub fn of(item: &Item) -> Self {
        let fields = &item.fields;
        let dates = match (&item.next, schedule::zone_of(fields)) {
            (Some(next), Some(zone)) => recurrence::when(next.starts_at, next.ends_at, zone),
            _ => String::new(),
        };
        Self {
            id: item.id,
            title: fields.title.clone(),
            group_slug: item.group.slug.clone(),
            group_name: item.group.name.clone(),
            kind: display::kind_label(item.kind),
            published: display::utc(item.published_at()),
            status: item.event_status.and_then(display::event_badge),
            dates,
            series: fields.recurrence.is_some(),
            rule: fields
                .recurrence
                .as_deref()
                .map(recurrence::describe_rule)
                .unwrap_or_default(),
            attendance: item.attendance.map_or("", display::attendance_label),
            place: fields.location_name.clone().unwrap_or_default(),
            map: display::map_link(fields).unwrap_or_default(),
            online: item.online_url().unwrap_or_default().to_string(),
            campaign: (item.kind == EntryKind::Crowdfunding)
                .then(|| Campaign::of(fields))
                .flatten(),
            image: item.image.clone(),
            image_alt: fields.image_alt.clone().unwrap_or_default(),
            content: fields.content.clone(),
            url: fields.url.clone(),
            call_to_action: fields
                .call_to_action
                .clone()
                .unwrap_or_else(|| "Read more".into()),
            sticky: item.sticky,
            language: fields.language.clone().unwrap_or_default(),
        }
    }

    /// The card with the texts of its translation for `language`, if it has one.
    pub fn in_language(item: &Item, language: Option<&str>) -> Self {
        let mut card = Self::of(item);
        let Some((language, texts)) =
            language.and_then(|code| Some((code, item.fields.in_language(code)?)))
        else {
            return card;
        };
        card.title = texts.title;
        card.content = texts.content;
        card.image_alt = texts.image_alt.unwrap_or_default();
        if let Some(call) = texts.call_to_action {
            card.call_to_action = call;
        }
        card.language = language.to_string();
        card
    }
}

/// A link to one language version of an entry's page.
pub struct LanguageLink {
    /// ISO 639-1 code, or `x-default` for the main texts of an entry for
    /// every language.
    pub hreflang: String,
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// The language of the texts a page reader asked for: `lang` (as the
/// feeds take it), else the first of their browser's `Accept-Language`.
pub fn reader_language(lang: Option<&str>, headers: &HeaderMap) -> Option<String> {
    match lang.map(str::trim).filter(|lang| !lang.is_empty()) {
        Some(lang) => codes::preferred_language(lang),
        None => headers
            .get(poem::http::header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(codes::preferred_language),
    }
}

/// Links to the page of `item` in its main language and each translation.
fn language_links(item: &Item, page_url: &str, shown: &str) -> Vec<LanguageLink> {
    if item.translations.is_empty() {
        return Vec::new();
    }
    let main = item.fields.language.as_deref();
    std::iter::once((main, page_url.to_string()))
        .chain(item.translations.iter().map(|localized| {
            let code = localized.language.as_str();
            (Some(code), format!("{page_url}?lang={code}"))
        }))
        .map(|(code, href)| LanguageLink {
            hreflang: code.unwrap_or("x-default").to_string(),
            label: code.map_or_else(|| "Original".to_string(), display::language_label),
            current: code.unwrap_or_default() == shown,
            href,
        })
        .collect()
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
    /// The site's calendar feed: `webcal://…` and `https://…`.
    calendar: (String, String),
    search: SearchBox,
    /// Pages of a search's results (everything live is on one page).
    pager: Option<Pager>,
}

/// Matches on one page of the searched start page.
const SEARCH_PAGE_SIZE: u64 = 30;

impl HomePage {
    fn new(hub: &FeedHub, query: &QgisQuery, cards: Vec<Card>) -> Self {
        let mut page = Layout::public("News from the user groups", "news");
        page.site.clone_from(&hub.settings().site_name);
        page.alternates = feed_links("", "All news");
        Self {
            page,
            cards,
            languages: query.languages.to_vec().join(", "),
            calendar: calendar_links::calendar_feed(&hub.settings().public_url, ""),
            search: SearchBox::new("/", "Search the news", "", 0),
            pager: None,
        }
    }

    fn body(&self) -> String {
        self.render().unwrap_or_else(|error| {
            tracing::error!(%error, "start page failed to render");
            String::new()
        })
    }
}

/// `GET /?q=` for browsers: what is live and matches, in feed order, by
/// pages (`offset`); read from the database's index, so not cached.
pub fn home_search<'a>(
    state: &'a AppState,
    query: &'a QgisQuery,
    q: &'a str,
    offset: Option<&'a str>,
) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>> {
    Box::pin(async move {
        match searched_home(state, query, q, offset).await {
            // Headers as the cached page's (revalidated each visit), so
            // clients and caches treat both alike.
            Ok(page) => Rendered::new(
                page.body(),
                "text/html; charset=utf-8",
                state.feeds.snapshot().modified_at,
            )
            .respond(&HeaderMap::new(), &state.feeds.settings().page_caching),
            Err(error) => {
                let mut layout = Layout::public("News from the user groups", "news");
                layout.site = state.services.config.site_name();
                error.page(layout)
            }
        }
    })
}

async fn searched_home(
    state: &AppState,
    query: &QgisQuery,
    q: &str,
    offset: Option<&str>,
) -> Result<HomePage, WebError> {
    let params = HashMap::from([
        ("q".to_string(), q.to_string()),
        ("offset".to_string(), offset.unwrap_or_default().to_string()),
    ]);
    let matching = match search::query_of(&params)? {
        Some(searched) => Some(service::search::published_ids(&state.services, &searched).await?),
        None => None,
    };
    let hub = &state.feeds;
    let snapshot = hub.snapshot();
    let now = snapshot.built_at;
    let live: Vec<&Item> = snapshot
        .items
        .iter()
        .filter(|item| {
            item.is_live(now)
                && item.speaks(&query.languages)
                && matching.as_ref().is_none_or(|ids| ids.contains(&item.id))
        })
        .collect();
    let offset = super::query::offset(&params);
    let cards: Vec<Card> = live
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(SEARCH_PAGE_SIZE as usize)
        .map(|item| Card::of(item))
        .collect();
    let total = live.len() as u64;
    let mut page = HomePage::new(hub, query, Vec::new());
    let languages = page.languages.replace(", ", ",");
    let base = super::query::query_string(&[("q", q.trim()), ("lang", &languages)]);
    page.pager = Some(Pager::new(
        total,
        offset,
        SEARCH_PAGE_SIZE,
        cards.len(),
        &base,
    ));
    page.search = SearchBox::new("/", "Search the news", q, total);
    page.cards = cards;
    Ok(page)
}

/// `GET /` for browsers: what is live, in feed order, rendered once per
/// snapshot and language filter (so it holds nothing personal).
pub fn home_page(hub: &FeedHub, query: &QgisQuery) -> Arc<Rendered> {
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
                let body = HomePage::new(hub, query, cards).body();
                Rendered::new(body, "text/html; charset=utf-8", snapshot.modified_at)
            })
        },
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "public/entry.html")]
struct PublicEntryPage {
    page: Layout,
    card: Card,
    /// "Add to calendar": `(label, href)`.
    add_links: Vec<(&'static str, String)>,
    /// schema.org JSON-LD, escaped for a script element.
    json_ld: String,
    /// Over: shown from the archive.
    ended: bool,
    /// The group's calendar feed: `webcal://…` and `https://…`.
    calendar: (String, String),
    /// Its versions in other languages (empty when it has none).
    languages: Vec<LanguageLink>,
}

/// `?lang=` of a public page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LanguageParam {
    lang: Option<String>,
}

#[handler]
pub async fn entry_page(
    ctx: Ctx<'_>,
    Path(id): Path<String>,
    Query(param): Query<LanguageParam>,
    headers: &HeaderMap,
) -> WebResult {
    let not_found = || WebError::App(AppError::not_found("published entry"));
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let snapshot = ctx.state.feeds.snapshot();
    let live = snapshot.live_item(id);
    // What has ended is in the archive (the snapshot forgets it after a while).
    let archived = match live {
        Some(_) => None,
        None => calendar::archived(ctx.services(), id)
            .await?
            .and_then(|archived| super::calendar::archived_item(&ctx, archived, ctx.now())),
    };
    let item = live.or(archived.as_ref()).ok_or_else(not_found)?;
    let public_url = &ctx.state.feeds.settings().public_url;
    let page_url = format!("{public_url}/entries/{id}");
    let group_url = format!("{public_url}/groups/{}", item.group.slug);
    let language = reader_language(param.lang.as_deref(), headers);
    let card = Card::in_language(item, language.as_deref());
    let languages = language_links(item, &page_url, &card.language);
    let mut page = ctx.layout(card.title.clone(), "news");
    if archived.is_none() {
        page.alternates
            .push(embed_links::discovery(public_url, &page_url, &card.title));
    }

    Ok(respond(
        PublicEntryPage {
            page,
            add_links: if item.kind.is_dated() && archived.is_none() {
                calendar_links::add_links(item, &page_url)
            } else {
                Vec::new()
            },
            json_ld: calendar_links::json_ld(item, &page_url, &group_url),
            ended: archived.is_some(),
            calendar: calendar_links::calendar_feed(
                public_url,
                &format!("/groups/{}", item.group.slug),
            ),
            card,
            languages,
        },
        StatusCode::OK,
    ))
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
    slug: String,
    name: String,
    country: String,
    website: String,
    suspended: bool,
    cards: Vec<Card>,
    feeds: Vec<(String, &'static str, String)>,
    calendar: (String, String),
    embed: Snippets,
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
    let prefix = format!("/groups/{}", group.slug);
    let feeds = feed_links(&prefix, &group.name);
    let public_url = &ctx.state.feeds.settings().public_url;
    let calendar = calendar_links::calendar_feed(public_url, &prefix);
    let embed = Snippets::of_group(public_url, &group.slug, &group.name);
    let mut page = ctx.layout(group.name.clone(), "groups");
    page.alternates = feeds.clone();
    page.alternates.push(embed_links::discovery(
        public_url,
        &embed.page,
        &format!("News from {}", group.name),
    ));
    Ok(respond(
        GroupPage {
            page,
            suspended: group.status != crate::domain::GroupStatus::Active,
            slug: group.slug,
            name: group.name,
            country: group.country,
            website: group.website,
            cards,
            feeds,
            calendar,
            embed,
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
                    "too many requests from your address: try again in {}",
                    wait_in_words(retry_after)
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
