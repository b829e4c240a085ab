//! The snapshot as bytes: the QGIS array, JSON Feed, RSS, Atom and iCalendar.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use poem::http::StatusCode;
use serde_json::{Value, json};

use super::calendar::calendar;
use super::{
    FeedFormat, FeedHub, FeedQuery, Item, Position, QgisQuery, Rendered, Snapshot, Texts, with_key,
};
use crate::domain::entry::{EntryFields, with_entry_fields};
use crate::domain::limits::TAG_URI_YEAR;
use crate::domain::sanitize::escape_html;

/// Why a feed request is refused.
#[derive(Debug)]
pub struct FeedRefusal {
    pub status: StatusCode,
    pub message: String,
}

impl FeedRefusal {
    fn not_found(message: String) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message,
        }
    }
}

/// `GET /` for QGIS and `json=1`: the array. Variants that depend only on
/// the snapshot are cached by their parameters; arrays for an `after` or a
/// position are cached by the entries they hold (few distinct sets per
/// snapshot), so they too are joined and gzip-compressed once. (Browsers
/// get the page that `web::public::home_page` renders.)
pub fn qgis_home(hub: &FeedHub, query: &QgisQuery) -> Arc<Rendered> {
    let snapshot = hub.snapshot.load();
    let json = |objects: &[(char, i64, &str)]| {
        Rendered::new(qgis_json(objects), "application/json", snapshot.modified_at)
    };
    // Arrays for an `after` or a position are keyed by what they hold.
    let selection = (!query.is_cacheable()).then(|| qgis_selection(hub, &snapshot, query));
    let write_key = |key: &mut String| match &selection {
        None => query.write_cache_key(key),
        Some(objects) => {
            let _ = write!(key, "/|qgis|{}|", query.call_to_action);
            // The reader's first language picks translated texts.
            key.extend(
                query
                    .languages
                    .first()
                    .into_iter()
                    .flatten()
                    .map(char::from),
            );
            key.push('|');
            for (state, id, _) in objects {
                let _ = write!(key, "{state}{id},");
            }
        }
    };
    with_key(write_key, |key| {
        snapshot.cached(key, || match &selection {
            Some(objects) => json(objects),
            None => json(&qgis_selection(hub, &snapshot, query)),
        })
    })
}

/// `/feed.*` and, with `group`, `/groups/{group}/feed.*`.
pub fn feed(
    hub: &FeedHub,
    format: FeedFormat,
    mut query: FeedQuery,
    group: Option<&str>,
) -> Result<Arc<Rendered>, FeedRefusal> {
    let snapshot = hub.snapshot.load();
    if let Some(slug) = group {
        query.groups = vec![slug.to_ascii_lowercase()];
    }
    if let Some(unknown) = query
        .groups
        .iter()
        .find(|slug| !snapshot.groups.contains_key(*slug))
    {
        return Err(FeedRefusal::not_found(format!("unknown group {unknown:?}")));
    }
    // A page starts after the entry the cursor names or, when that one is
    // gone, after where it stood. Every cursor is replaced by the last
    // entry before that place, so that all cursors naming one page share
    // its cached copy, and a cursor before everything is the first page.
    let start = query.before.map_or(0, |cursor| {
        snapshot
            .items
            .partition_point(|item| item.position() <= cursor)
    });
    query.before = start
        .checked_sub(1)
        .and_then(|last| snapshot.items.get(last))
        .map(Item::position);
    let url = FeedUrl {
        format,
        group_path: group.is_some(),
        query: &query,
    };
    let render = || {
        let public = &hub.settings.public_url;
        let self_url = url.absolute(public, query.before);
        let view = View {
            hub,
            snapshot: &snapshot,
            query: &query,
            start,
            self_url: self_url.clone(),
            feed_url: url.absolute(public, None),
            url: &url,
        };
        let body = match format {
            FeedFormat::Json => view.json_feed(),
            FeedFormat::Rss => view.rss(),
            FeedFormat::Atom => view.atom(),
            FeedFormat::Ics => view.ics(),
        };
        let rendered = Rendered::new(body, format.content_type(), snapshot.modified_at);
        match format {
            FeedFormat::Rss | FeedFormat::Atom => {
                rendered.with_hubs(&hub.settings.websub_hubs, &self_url)
            }
            FeedFormat::Json | FeedFormat::Ics => rendered,
        }
    };
    Ok(with_key(
        |key| url.write(key, query.before),
        |key| match query.before {
            Some(_) => snapshot.cached_page(key, render),
            None => snapshot.cached(key, render),
        },
    ))
}

/// The URL of one variant of a feed: its path and canonical query.
struct FeedUrl<'a> {
    format: FeedFormat,
    /// Whether it is `/groups/{slug}/feed.*` (of the query's one group).
    group_path: bool,
    query: &'a FeedQuery,
}

impl FeedUrl<'_> {
    /// The path and query, with `before` the given cursor.
    fn write(&self, out: &mut String, before: Option<Position>) {
        let extension = self.format.extension();
        let _ = match self.query.groups.first().filter(|_| self.group_path) {
            Some(slug) => write!(out, "/groups/{slug}/feed.{extension}"),
            None => write!(out, "/feed.{extension}"),
        };
        out.push('?');
        let start = out.len();
        self.query.write_query_string(out, !self.group_path, before);
        if out.len() == start {
            out.pop();
        }
    }

    fn absolute(&self, public_url: &str, before: Option<Position>) -> String {
        let mut out = public_url.to_string();
        self.write(&mut out, before);
        out
    }
}

/// What goes into the QGIS array, in feed order as on feed.qgis.org: live
/// entries (new since `after`, if given; at most `--feed-max-items`) and,
/// for clients that understand it, entries gone since `after` with a past
/// `publish_to` (never capped: a dropped retraction would leave the entry
/// on screen for good); each as (`l`ive or `g`one, id, pre-rendered JSON).
fn qgis_selection<'a>(
    hub: &FeedHub,
    snapshot: &'a Snapshot,
    query: &QgisQuery,
) -> Vec<(char, i64, &'a str)> {
    let now = snapshot.built_at;
    let mut live_left = hub.settings.max_items;
    let mut selection = Vec::new();
    for item in &snapshot.items {
        if !item.reaches(&query.languages, query.point) {
            continue;
        }
        if item.is_live(now) {
            let wanted = query
                .after
                .is_none_or(|after| item.is_news_since(after, query.knows_retractions));
            if wanted && live_left > 0 {
                live_left -= 1;
                selection.push((
                    'l',
                    item.id,
                    item.qgis_object(query.call_to_action, query.languages.first()),
                ));
            }
        } else if let (true, Some(after)) = (query.knows_retractions, query.after) {
            // The snapshot keeps ended events longer, for the calendars.
            if let Some(json) = item.retraction_since(after, now, hub.settings.retraction_secs) {
                selection.push(('g', item.id, json));
            }
        }
    }
    selection
}

/// The QGIS array of `objects`.
fn qgis_json(objects: &[(char, i64, &str)]) -> String {
    let mut out = String::with_capacity(2 + objects.iter().map(|o| o.2.len() + 1).sum::<usize>());
    out.push('[');
    for (index, (_, _, object)) in objects.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(object);
    }
    out.push(']');
    out
}

fn date(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn fixed(seconds: i64) -> DateTime<FixedOffset> {
    date(seconds).fixed_offset()
}

/// A JSON value of each field kind of `with_entry_fields!` (instants as RFC 3339).
macro_rules! json_value {
    (instant, $value:expr) => {
        json!($value.map(|t| date(t).to_rfc3339()))
    };
    ($kind:ident, $value:expr) => {
        json!($value)
    };
}

macro_rules! kind_fields_json {
    (
        common: [$($common_kind:ident $common:ident $common_doc:literal),* $(,)?],
        kind: [$($kind_kind:ident $kind:ident $kind_doc:literal),* $(,)?] $(,)?
    ) => {
        /// The fields of particular kinds (event dates, place, crowdfunding goal).
        fn kind_fields_json(fields: &EntryFields) -> serde_json::Map<String, Value> {
            let mut object = serde_json::Map::new();
            $(object.insert(stringify!($kind).into(), json_value!($kind_kind, fields.$kind));)*
            object
        }
    };
}

with_entry_fields!(kind_fields_json);

/// JSON Feed's `_newsfeed` extension: kind, group, the kind's own fields,
/// and for events and meetups their effective status and attendance and
/// the next occurrence.
fn newsfeed_extension(item: &Item) -> Value {
    let mut object = kind_fields_json(&item.fields);
    object.insert("kind".into(), json!(item.kind));
    object.insert("group".into(), json!(item.group.slug));
    object.insert("group_name".into(), json!(item.group.name));
    object.insert("sticky".into(), json!(item.sticky));
    object.insert(
        "event_status".into(),
        json!(item.event_status.map(|status| status.as_str())),
    );
    object.insert(
        "attendance".into(),
        json!(item.attendance.map(|attendance| attendance.as_str())),
    );
    object.insert(
        "next_occurrence".into(),
        json!(
            item.next
                .as_ref()
                .map(|next| date(next.starts_at).to_rfc3339())
        ),
    );
    object.insert("sequence".into(), json!(item.sequence));
    if let Some(to) = item.fields.publish_to {
        object.insert("expires_at".into(), json!(date(to).to_rfc3339()));
    }
    Value::Object(object)
}

/// One item of a JSON Feed, in `texts`.
fn json_item(item: &Item, texts: Texts<'_>) -> Value {
    let mut object = json!({
        "id": item.tag,
        "url": item.link,
        "title": texts.headline,
        "content_html": texts.body_html,
        "date_published": date(item.published_at()).to_rfc3339(),
        "date_modified": date(item.changed_at).to_rfc3339(),
        "authors": [{"name": item.group.name}],
        "tags": [item.kind.as_str(), item.group.slug.as_str()],
        "_newsfeed": newsfeed_extension(item),
    });
    if !item.image.is_empty() {
        object["image"] = json!(item.image);
        // JSON Feed has no place for it: the extension says what it shows.
        if let Some(alt) = image_alt(texts) {
            object["_newsfeed"]["image_alt"] = json!(alt);
        }
    }
    if !item.summary.is_empty() {
        object["summary"] = json!(item.summary);
    }
    if let Some(language) = texts.language {
        object["language"] = json!(language);
    }
    object
}

/// `/entries/{id}.json`: a JSON Feed of the one live entry `id` (what
/// `<newsfeed-entry>` shows), `None` when it is not live. Rendered for
/// each request, as one entry's calendar is.
pub(super) fn entry_json(hub: &FeedHub, id: i64) -> Option<Rendered> {
    let snapshot = hub.snapshot.load();
    let item = snapshot.live_item(id)?;
    let public_url = &hub.settings.public_url;
    let body = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": item.headline,
        "home_page_url": format!("{public_url}/entries/{id}"),
        "feed_url": format!("{public_url}/entries/{id}.json"),
        "items": [json_item(item, item.main_texts())],
    });
    Some(Rendered::new(
        body.to_string(),
        FeedFormat::Json.content_type(),
        item.changed_at,
    ))
}

/// One filtered variant of a feed being rendered.
struct View<'a> {
    hub: &'a FeedHub,
    snapshot: &'a Snapshot,
    query: &'a FeedQuery,
    /// Index in the snapshot's items where the page starts.
    start: usize,
    /// The URL of this page.
    self_url: String,
    /// The URL of the feed (its first page), which names it.
    feed_url: String,
    url: &'a FeedUrl<'a>,
}

impl View<'_> {
    fn matches(&self, item: &Item) -> bool {
        (self.query.groups.is_empty() || self.query.groups.contains(&item.group.slug))
            && (self.query.kinds.is_empty() || self.query.kinds.contains(&item.kind))
            && (self.query.countries.is_empty()
                || self
                    .query
                    .countries
                    .iter()
                    .any(|country| item.group.country.eq_ignore_ascii_case(country)))
            && item.speaks(&self.query.languages)
    }

    /// The page's items, in feed order: those `shown` that match, at most
    /// `limit` (else `default_limit`, `None` for all); and the link to the
    /// next page when more follow.
    fn page(
        &self,
        shown: impl Fn(&Item) -> bool,
        default_limit: Option<usize>,
    ) -> (Vec<&Item>, Option<String>) {
        let limit = self.query.limit.or(default_limit).unwrap_or(usize::MAX);
        let mut matching = self
            .snapshot
            .items
            .get(self.start..)
            .unwrap_or_default()
            .iter()
            .filter(|item| shown(item) && self.matches(item));
        let page: Vec<&Item> = matching.by_ref().take(limit).collect();
        let next = match (matching.next(), page.last()) {
            (Some(_), Some(last)) => Some(
                self.url
                    .absolute(&self.hub.settings.public_url, Some(last.position())),
            ),
            _ => None,
        };
        (page, next)
    }

    /// Live entries, a page of at most the configured number.
    fn live(&self) -> (Vec<&Item>, Option<String>) {
        let now = self.snapshot.built_at;
        self.page(|item| item.is_live(now), Some(self.hub.settings.max_items))
    }

    fn title(&self) -> String {
        let names: Vec<&str> = self
            .query
            .groups
            .iter()
            .filter_map(|slug| self.snapshot.groups.get(slug))
            .map(|group| group.name.as_str())
            .collect();
        if names.is_empty() {
            "News from the user groups".into()
        } else {
            format!("News from {}", names.join(", "))
        }
    }

    fn feed_id(&self) -> String {
        format!(
            "tag:{},{}:feed{}",
            self.hub.settings.host,
            TAG_URI_YEAR,
            self.feed_url
                .trim_start_matches(&self.hub.settings.public_url)
        )
    }

    fn json_feed(&self) -> String {
        let (page, next) = self.live();
        let items: Vec<Value> = page
            .into_iter()
            .map(|item| json_item(item, item.texts(&self.query.languages)))
            .collect();
        let mut feed = json!({
            "version": "https://jsonfeed.org/version/1.1",
            "title": self.title(),
            "home_page_url": format!("{}/", self.hub.settings.public_url),
            "feed_url": self.feed_url,
            "items": items,
        });
        if let Some(next) = next {
            feed["next_url"] = json!(next);
        }
        feed.to_string()
    }

    /// The WebSub hubs as links of the feed's own kind.
    fn hub_links<'b, L: 'b>(
        &'b self,
        link: impl Fn(String) -> L + 'b,
    ) -> impl Iterator<Item = L> + 'b {
        self.hub
            .settings
            .websub_hubs
            .iter()
            .map(move |hub| link(hub.clone()))
    }

    fn rss(&self) -> String {
        use rss::extension::atom::{AtomExtension, Link};
        let (page, next) = self.live();
        let items = page
            .into_iter()
            .map(|item| (item, item.texts(&self.query.languages)))
            .map(|(item, texts)| rss::Item {
                title: Some(texts.headline.to_string()),
                link: Some(item.link.clone()),
                description: Some(texts.body_html.to_string()),
                enclosure: (!item.image.is_empty()).then(|| rss::Enclosure {
                    url: item.image.clone(),
                    // Unknown without fetching it; 0 is what readers expect then.
                    length: "0".into(),
                    mime_type: image_type(&item.image).into(),
                }),
                extensions: media_content(&item.image, image_alt(texts)),
                guid: Some(rss::Guid {
                    value: item.tag.clone(),
                    permalink: false,
                }),
                pub_date: Some(date(item.published_at()).to_rfc2822()),
                categories: vec![
                    rss::Category {
                        name: item.kind.as_str().into(),
                        domain: Some(format!("{}/kinds", self.hub.settings.public_url)),
                    },
                    rss::Category {
                        name: item.group.slug.clone(),
                        domain: Some(format!("{}/groups", self.hub.settings.public_url)),
                    },
                ],
                ..Default::default()
            })
            .collect();
        rss::Channel {
            // Plain text, as RSS titles are.
            title: self.title(),
            link: format!("{}/", self.hub.settings.public_url),
            // Readers render a description as HTML: the group names in it are text.
            description: escape_html(&self.title()),
            last_build_date: Some(date(self.snapshot.modified_at).to_rfc2822()),
            ttl: Some((self.hub.settings.max_age / 60).max(1).to_string()),
            atom_ext: Some(AtomExtension {
                links: [Link {
                    href: self.self_url.clone(),
                    rel: "self".into(),
                    mime_type: Some("application/rss+xml".into()),
                    ..Default::default()
                }]
                .into_iter()
                .chain(next.map(|href| Link {
                    href,
                    rel: "next".into(),
                    mime_type: Some("application/rss+xml".into()),
                    ..Default::default()
                }))
                .chain(self.hub_links(|href| Link {
                    href,
                    rel: "hub".into(),
                    ..Default::default()
                }))
                .collect(),
            }),
            items,
            namespaces: [("media".to_string(), MEDIA_RSS_NAMESPACE.to_string())].into(),
            ..Default::default()
        }
        .to_string()
    }

    fn atom(&self) -> String {
        use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
        let (page, next) = self.live();
        let entries = page
            .into_iter()
            .map(|item| (item, item.texts(&self.query.languages)))
            .map(|(item, texts)| Entry {
                id: item.tag.clone(),
                title: Text::plain(texts.headline),
                updated: fixed(item.changed_at),
                published: Some(fixed(item.published_at())),
                authors: vec![Person {
                    name: item.group.name.clone(),
                    ..Default::default()
                }],
                links: [Link {
                    href: item.link.clone(),
                    rel: "alternate".into(),
                    ..Default::default()
                }]
                .into_iter()
                .chain((!item.image.is_empty()).then(|| Link {
                    href: item.image.clone(),
                    rel: "enclosure".into(),
                    mime_type: Some(image_type(&item.image).into()),
                    title: image_alt(texts).map(str::to_string),
                    ..Default::default()
                }))
                .collect(),
                categories: vec![
                    Category {
                        term: item.kind.as_str().into(),
                        label: Some("kind".into()),
                        ..Default::default()
                    },
                    Category {
                        term: item.group.slug.clone(),
                        label: Some(item.group.name.clone()),
                        ..Default::default()
                    },
                ],
                content: Some(Content {
                    value: Some(texts.body_html.to_string()),
                    content_type: Some("html".into()),
                    lang: texts.language.map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        Feed {
            id: self.feed_id(),
            title: Text::plain(self.title()),
            updated: fixed(self.snapshot.modified_at),
            links: [
                Link {
                    href: self.self_url.clone(),
                    rel: "self".into(),
                    mime_type: Some("application/atom+xml".into()),
                    ..Default::default()
                },
                Link {
                    href: format!("{}/", self.hub.settings.public_url),
                    rel: "alternate".into(),
                    ..Default::default()
                },
            ]
            .into_iter()
            // RFC 5005 paging.
            .chain(next.map(|href| Link {
                href,
                rel: "next".into(),
                mime_type: Some("application/atom+xml".into()),
                ..Default::default()
            }))
            .chain(self.hub_links(|href| Link {
                href,
                rel: "hub".into(),
                ..Default::default()
            }))
            .collect(),
            entries,
            ..Default::default()
        }
        .to_string()
    }

    /// Events and meetups whose window has opened, until some time after
    /// they ended (retracted ones as cancelled); capped only by `limit`
    /// (iCalendar has no link to a next page).
    fn ics(&self) -> String {
        let now = self.snapshot.built_at;
        let (page, _) = self.page(|item| item.in_calendar(now), None);
        calendar(&self.title(), page.into_iter(), &self.hub.settings)
    }
}

/// The Media RSS namespace, whose `media:content` QField reads pictures from.
const MEDIA_RSS_NAMESPACE: &str = "http://search.yahoo.com/mrss/";

/// What the picture shows in `texts`, when its group said.
fn image_alt(texts: Texts<'_>) -> Option<&str> {
    texts.image_alt.map(str::trim).filter(|alt| !alt.is_empty())
}

/// `<media:content url=… medium="image"/>` of a picture, if there is one,
/// with `<media:description>` saying what it shows.
fn media_content(image: &str, alt: Option<&str>) -> rss::extension::ExtensionMap {
    use rss::extension::Extension;
    if image.is_empty() {
        return rss::extension::ExtensionMap::new();
    }
    let description = alt.map(|alt| Extension {
        name: "media:description".into(),
        value: Some(alt.to_string()),
        attrs: [("type".to_string(), "plain".to_string())].into(),
        ..Default::default()
    });
    let content = Extension {
        children: description
            .map(|description| [("description".to_string(), vec![description])].into())
            .unwrap_or_default(),
        name: "media:content".into(),
        attrs: [
            ("url".to_string(), image.to_string()),
            ("medium".to_string(), "image".to_string()),
            ("type".to_string(), image_type(image).to_string()),
        ]
        .into(),
        ..Default::default()
    };
    [(
        "media".to_string(),
        [("content".to_string(), vec![content])].into(),
    )]
    .into()
}

/// The media type of a picture, by its name: uploads are JPEG; pictures
/// that moderators link may be PNG, WebP or GIF.
fn image_type(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let extension = path
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match extension.as_deref() {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        _ => "image/jpeg",
    }
}
