//! The public calendar: upcoming events and meetups by date under month
//! headings (`/events`, `/groups/{slug}/events`), from the feed snapshot,
//! and the archive of what has ended (`/archive`), from the database.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use chrono_tz::Tz;
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Path, Query};

use super::calendar_links::calendar_feed;
use super::context::{Ctx, Layout, WebError, WebResult, respond};
use super::display::{self, Badge, Choice, Pager};
use super::forms::FormState;
use super::public::Card;
use super::query::{offset, query_string, text};
use super::search::{SearchBox, query_of};
use crate::domain::codes::Languages;
use crate::domain::{EntryKind, recurrence, schedule};
use crate::error::AppError;
use crate::feeds::{Areas, GroupInfo, Item};
use crate::service::{calendar, search};

/// How far ahead the calendar lists occurrences of a series.
const HORIZON_SECS: i64 = 366 * 86_400;
const PAGE_SIZE: u64 = 30;
const MAX_PAGE_SIZE: u64 = 100;

/// One occurrence in the calendar.
pub struct EventRow {
    pub href: String,
    pub title: String,
    pub group_slug: String,
    pub group_name: String,
    pub kind: &'static str,
    pub when: String,
    /// `2027-06-10T15:00:00+02:00`, for `<time datetime>`.
    pub datetime: String,
    pub place: String,
    pub attendance: &'static str,
    pub status: Option<Badge>,
    pub moved: bool,
    pub series: bool,
}

/// Rows under one month heading (`June 2027`).
pub struct Month {
    pub heading: String,
    pub rows: Vec<EventRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/events.html")]
struct EventsPage {
    page: Layout,
    /// The group whose calendar this is (name), or none for every group.
    group: Option<(String, String)>,
    action: String,
    filters: FormState,
    kinds: Vec<Choice>,
    languages: Vec<Choice>,
    countries: Vec<Choice>,
    months: Vec<Month>,
    pager: Pager,
    /// The calendar feed: `https://…` and `webcal://…`.
    feed: (String, String),
    search: SearchBox,
}

/// `?limit=`: a page size from 1 to 100.
fn limit(query: &HashMap<String, String>) -> u64 {
    query
        .get("limit")
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE)
}

/// What a query asks of the calendar's items.
struct EventFilter {
    kind: Option<EntryKind>,
    groups: Vec<String>,
    /// Ids of the groups of the country asked for.
    country: Option<HashSet<i64>>,
    languages: Languages,
    /// The published entries that match `?q=`, when there is one.
    matching: Option<HashSet<i64>>,
}

impl EventFilter {
    /// The filter a page's query asks for (on a group's page, that group).
    fn of(
        query: &HashMap<String, String>,
        group: Option<&GroupInfo>,
        groups: &[&GroupInfo],
        matching: Option<HashSet<i64>>,
    ) -> Self {
        let country = text(query, "country");
        Self {
            kind: EntryKind::parse(text(query, "kind")).filter(|kind| kind.is_dated()),
            groups: match group {
                Some(group) => vec![group.slug.clone()],
                None => text(query, "group")
                    .split(',')
                    .map(str::trim)
                    .filter(|slug| !slug.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
            country: (!country.is_empty()).then(|| {
                groups
                    .iter()
                    .filter(|group| group.country.eq_ignore_ascii_case(country))
                    .map(|group| group.id)
                    .collect()
            }),
            // The form offers known codes only; anything else filters nothing.
            languages: Languages::parse(Some(text(query, "lang"))).unwrap_or_default(),
            matching,
        }
    }

    fn keeps(&self, item: &Item) -> bool {
        item.kind.is_dated()
            && self.kind.is_none_or(|kind| item.kind == kind)
            && (self.groups.is_empty() || self.groups.contains(&item.group.slug))
            && self
                .country
                .as_ref()
                .is_none_or(|ids| ids.contains(&item.group.id))
            && item.speaks(&self.languages)
            && self
                .matching
                .as_ref()
                .is_none_or(|ids| ids.contains(&item.id))
    }
}

fn month_of(instant: i64, zone: Tz) -> String {
    display::date(instant)
        .with_timezone(&zone)
        .format("%B %Y")
        .to_string()
}

/// Every occurrence of `items` that has not ended, in time order: the next
/// one of each entry however far ahead, the later ones of a series within
/// the horizon.
fn upcoming<'a>(items: impl Iterator<Item = &'a Item>, now: i64) -> Vec<(i64, EventRow, String)> {
    let mut rows = Vec::new();
    for item in items {
        let zone = schedule::zone_of(&item.fields).unwrap_or(Tz::UTC);
        let card = Card::of(item);
        for occurrence in item
            .occurrences
            .iter()
            .filter(|o| o.ends_at > now)
            .enumerate()
            .take_while(|(index, o)| *index == 0 || o.starts_at < now + HORIZON_SECS)
            .map(|(_, occurrence)| occurrence)
        {
            rows.push((
                occurrence.starts_at,
                EventRow {
                    href: format!("/entries/{}", item.id),
                    title: card.title.clone(),
                    group_slug: card.group_slug.clone(),
                    group_name: card.group_name.clone(),
                    kind: card.kind,
                    when: recurrence::when(occurrence.starts_at, occurrence.ends_at, zone),
                    datetime: super::calendar_links::iso_in(occurrence.starts_at, zone),
                    place: card.place.clone(),
                    attendance: card.attendance,
                    status: card.status.clone(),
                    moved: occurrence.moved,
                    series: card.series,
                },
                month_of(occurrence.starts_at, zone),
            ));
        }
    }
    rows.sort_by_key(|(starts, row, _)| (*starts, row.href.clone()));
    rows
}

/// Consecutive rows of the same month under one heading.
fn by_month(rows: Vec<(i64, EventRow, String)>) -> Vec<Month> {
    let mut months: Vec<Month> = Vec::new();
    for (_, row, heading) in rows {
        match months.last_mut() {
            Some(month) if month.heading == heading => month.rows.push(row),
            _ => months.push(Month {
                heading,
                rows: vec![row],
            }),
        }
    }
    months
}

async fn events_page(
    ctx: &Ctx<'_>,
    query: &HashMap<String, String>,
    group: Option<Arc<GroupInfo>>,
) -> WebResult {
    let snapshot = ctx.state.feeds.snapshot();
    let now = snapshot.built_at;
    // The snapshot's groups: the page reads no database.
    let all_groups: Vec<&GroupInfo> = snapshot.groups.values().map(Arc::as_ref).collect();
    let matching = match query_of(query)? {
        Some(searched) => Some(search::published_ids(ctx.services(), &searched).await?),
        None => None,
    };
    let filter = EventFilter::of(query, group.as_deref(), &all_groups, matching);
    let rows = upcoming(
        snapshot
            .items
            .iter()
            .filter(|item| item.is_live(now) && filter.keeps(item)),
        now,
    );
    let (offset, limit) = (offset(query), limit(query));
    let total = rows.len() as u64;
    let page_rows: Vec<_> = rows
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let limit_text = query.get("limit").map_or("", String::as_str);
    let base = query_string(&[
        ("q", text(query, "q")),
        ("kind", text(query, "kind")),
        ("group", text(query, "group")),
        ("country", text(query, "country")),
        ("lang", text(query, "lang")),
        ("limit", limit_text),
    ]);
    let pager = Pager::new(total, offset, limit, page_rows.len(), &base);
    let settings = ctx.state.feeds.settings();
    let (title, action, prefix) = match &group {
        Some(group) => (
            format!("Events of {}", group.name),
            format!("/groups/{}/events", group.slug),
            format!("/groups/{}", group.slug),
        ),
        None => (
            "Upcoming events and meetups".to_string(),
            "/events".to_string(),
            String::new(),
        ),
    };
    let feed_path = format!("{prefix}/feed.ics");
    let mut page = ctx.layout(title, "events");
    page.alternates = vec![(
        format!("{} (iCalendar)", page.title),
        "text/calendar",
        feed_path,
    )];
    let mut languages = display::languages();
    languages[0] = Choice::new("", "Any language");
    let mut countries: Vec<Choice> = all_groups
        .iter()
        .map(|group| group.country.to_ascii_uppercase())
        .filter(|code| !code.is_empty())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|code| Choice::new(code.clone(), code))
        .collect();
    countries.insert(0, Choice::new("", "Any country"));
    let search = SearchBox::new(action.as_str(), "Search events", text(query, "q"), total);
    Ok(respond(
        EventsPage {
            page,
            group: group.map(|group| (group.slug.clone(), group.name.clone())),
            action,
            filters: FormState::new(query.clone()),
            kinds: vec![
                Choice::new("", "Events and meetups"),
                Choice::new("event", "Events"),
                Choice::new("meetup", "Meetups"),
            ],
            languages,
            countries,
            months: by_month(page_rows),
            pager,
            feed: calendar_feed(&settings.public_url, &prefix),
            search,
        },
        StatusCode::OK,
    ))
}

#[handler]
pub async fn events(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    events_page(&ctx, &query, None).await
}

#[handler]
pub async fn group_events(
    ctx: Ctx<'_>,
    Path(slug): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> WebResult {
    let group = ctx
        .state
        .feeds
        .snapshot()
        .groups
        .get(&slug)
        .cloned()
        .ok_or_else(|| WebError::App(AppError::not_found("group")))?;
    events_page(&ctx, &query, Some(group)).await
}

/// An ended entry as the pages show it, decoded as the feeds would.
pub fn archived_item(ctx: &Ctx<'_>, archived: calendar::Archived, now: i64) -> Option<Item> {
    Item::from_model(
        archived.entry,
        Arc::new(GroupInfo::from(archived.group)),
        &Areas::new(),
        ctx.state.feeds.settings(),
        now,
    )
}

/// An ended entry in the archive.
pub struct ArchiveRow {
    pub card: Card,
    pub ended: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "public/archive.html")]
struct ArchivePage {
    page: Layout,
    search: SearchBox,
    filters: FormState,
    rows: Vec<ArchiveRow>,
    pager: Pager,
}

#[handler]
pub async fn archive(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    let (offset, limit) = (offset(&query), limit(&query));
    let searched = query_of(&query)?;
    let (found, total) =
        calendar::archive(ctx.services(), searched.as_ref(), offset, limit).await?;
    let now = ctx.now();
    let rows: Vec<ArchiveRow> = found
        .into_iter()
        .filter_map(|archived| archived_item(&ctx, archived, now))
        .map(|item| ArchiveRow {
            ended: item.fields.publish_to.map(display::utc).unwrap_or_default(),
            card: Card::of(&item),
        })
        .collect();
    let limit_text = query.get("limit").map_or("", String::as_str);
    let base = query_string(&[("q", text(&query, "q")), ("limit", limit_text)]);
    let pager = Pager::new(total, offset, limit, rows.len(), &base);
    Ok(respond(
        ArchivePage {
            page: ctx.layout("Archive", "archive"),
            search: SearchBox::new("/archive", "Search the archive", text(&query, "q"), total),
            filters: FormState::new(query.clone()),
            rows,
            pager,
        },
        StatusCode::OK,
    ))
}
