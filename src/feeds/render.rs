//! The snapshot as bytes: the QGIS array, JSON Feed, RSS, Atom and iCalendar.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use poem::http::StatusCode;
use serde_json::{Value, json};

use super::ics::{Ics, geo};
use super::{FeedFormat, FeedHub, FeedQuery, Item, QgisQuery, Rendered, Snapshot, with_key};
use crate::domain::entry::{EntryFields, with_entry_fields};
use crate::domain::limits::TAG_URI_YEAR;
use crate::domain::sanitize::{escape_html, plain_text};

/// Why a feed request is refused.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
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
/// get the page that `web::public::home` renders.)
pub fn home(hub: &FeedHub, query: &QgisQuery) -> Arc<Rendered> {
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
) -> Result<Arc<Rendered>, Refusal> {
    let snapshot = hub.snapshot.load();
    if let Some(slug) = group {
        query.groups = vec![slug.to_ascii_lowercase()];
    }
    if let Some(unknown) = query
        .groups
        .iter()
        .find(|slug| !snapshot.groups.contains_key(*slug))
    {
        return Err(Refusal::not_found(format!("unknown group {unknown:?}")));
    }
    // The path, then `?` and the canonical query (without the group a
    // group path already names).
    let write_url = |out: &mut String| {
        match group {
            Some(_) => {
                let _ = write!(
                    out,
                    "/groups/{}/feed.{}?",
                    query.groups[0],
                    format.extension()
                );
            }
            None => {
                let _ = write!(out, "/feed.{}?", format.extension());
            }
        }
        query.write_query_string(out, group.is_none());
    };
    Ok(with_key(write_url, |key| {
        snapshot.cached(key, || {
            let mut self_url = hub.settings.public_url.clone();
            write_url(&mut self_url);
            let self_url = self_url.trim_end_matches('?');
            let view = View {
                hub,
                snapshot: &snapshot,
                query: &query,
                self_url,
            };
            let body = match format {
                FeedFormat::Json => view.json_feed(),
                FeedFormat::Rss => view.rss(),
                FeedFormat::Atom => view.atom(),
                FeedFormat::Ics => view.ics(),
            };
            Rendered::new(body, format.content_type(), snapshot.modified_at)
        })
    }))
}

/// What goes into the QGIS array: live entries (changed since `after`, if
/// given; at most `--feed-max-items`), then, for clients that understand it,
/// every entry gone since `after` with a past `publish_to` (small, and never
/// capped: a dropped retraction would leave the entry on screen for good);
/// each as (`l`ive or `g`one, id, pre-rendered JSON).
fn qgis_selection<'a>(
    hub: &FeedHub,
    snapshot: &'a Snapshot,
    query: &QgisQuery,
) -> Vec<(char, i64, &'a str)> {
    let now = snapshot.built_at;
    let wanted = |item: &&Item| item.reaches(&query.languages, query.point);
    let live = snapshot
        .items
        .iter()
        .filter(|item| item.is_live(now))
        .filter(wanted)
        .filter(|item| {
            query
                .after
                .is_none_or(|after| item.published_at().max(item.changed_at) as f64 >= after)
        })
        .map(|item| ('l', item.id, item.qgis_object(query.call_to_action)))
        .take(hub.settings.max_items);
    let gone = snapshot
        .items
        .iter()
        .filter(|_| query.knows_retractions)
        .filter(wanted)
        .filter_map(|item| match (&item.qgis_gone, query.after) {
            (Some((at, json)), Some(after)) if *at as f64 >= after => {
                Some(('g', item.id, json.as_str()))
            }
            _ => None,
        });
    live.chain(gone).collect()
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

/// JSON Feed's `_newsfeed` extension: kind, group and the kind's own fields.
fn newsfeed_extension(item: &Item) -> Value {
    let mut object = kind_fields_json(&item.fields);
    object.insert("kind".into(), json!(item.kind));
    object.insert("group".into(), json!(item.group.slug));
    object.insert("group_name".into(), json!(item.group.name));
    object.insert("sticky".into(), json!(item.sticky));
    if let Some(to) = item.fields.publish_to {
        object.insert("expires_at".into(), json!(date(to).to_rfc3339()));
    }
    Value::Object(object)
}

/// One filtered variant of a feed being rendered.
struct View<'a> {
    hub: &'a FeedHub,
    snapshot: &'a Snapshot,
    query: &'a FeedQuery,
    self_url: &'a str,
}

impl View<'_> {
    fn matches(&self, item: &Item) -> bool {
        (self.query.groups.is_empty() || self.query.groups.contains(&item.group.slug))
            && (self.query.kinds.is_empty() || self.query.kinds.contains(&item.kind))
            && item.speaks(&self.query.languages)
    }

    /// Live entries in feed order, at most the configured number.
    fn live(&self) -> impl Iterator<Item = &Item> {
        let now = self.snapshot.built_at;
        self.snapshot
            .items
            .iter()
            .filter(move |item| item.is_live(now) && self.matches(item))
            .take(self.hub.settings.max_items)
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
            self.self_url
                .trim_start_matches(&self.hub.settings.public_url)
        )
    }

    fn json_feed(&self) -> String {
        let items: Vec<Value> = self
            .live()
            .map(|item| {
                let fields = &item.fields;
                let mut object = json!({
                    "id": item.tag,
                    "url": item.link,
                    "title": fields.title,
                    "content_html": fields.content,
                    "date_published": date(item.published_at()).to_rfc3339(),
                    "date_modified": date(item.changed_at).to_rfc3339(),
                    "authors": [{"name": item.group.name}],
                    "tags": [item.kind.as_str(), item.group.slug.as_str()],
                    "_newsfeed": newsfeed_extension(item),
                });
                if !item.image.is_empty() {
                    object["image"] = json!(item.image);
                }
                if let Some(language) = &fields.language {
                    object["language"] = json!(language);
                }
                object
            })
            .collect();
        json!({
            "version": "https://jsonfeed.org/version/1.1",
            "title": self.title(),
            "home_page_url": format!("{}/", self.hub.settings.public_url),
            "feed_url": self.self_url,
            "items": items,
        })
        .to_string()
    }

    fn rss(&self) -> String {
        use rss::extension::atom::{AtomExtension, Link};
        let items = self
            .live()
            .map(|item| rss::Item {
                title: Some(item.fields.title.clone()),
                link: Some(item.link.clone()),
                description: Some(item.fields.content.clone()),
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
                links: vec![Link {
                    href: self.self_url.into(),
                    rel: "self".into(),
                    mime_type: Some("application/rss+xml".into()),
                    ..Default::default()
                }],
            }),
            items,
            ..Default::default()
        }
        .to_string()
    }

    fn atom(&self) -> String {
        use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
        let entries = self
            .live()
            .map(|item| Entry {
                id: item.tag.clone(),
                title: Text::plain(item.fields.title.clone()),
                updated: fixed(item.changed_at),
                published: Some(fixed(item.published_at())),
                authors: vec![Person {
                    name: item.group.name.clone(),
                    ..Default::default()
                }],
                links: vec![Link {
                    href: item.link.clone(),
                    rel: "alternate".into(),
                    ..Default::default()
                }],
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
                    value: Some(item.fields.content.clone()),
                    content_type: Some("html".into()),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect();
        Feed {
            id: self.feed_id(),
            title: Text::plain(self.title()),
            updated: fixed(self.snapshot.modified_at),
            links: vec![
                Link {
                    href: self.self_url.into(),
                    rel: "self".into(),
                    mime_type: Some("application/atom+xml".into()),
                    ..Default::default()
                },
                Link {
                    href: format!("{}/", self.hub.settings.public_url),
                    rel: "alternate".into(),
                    ..Default::default()
                },
            ],
            entries,
            ..Default::default()
        }
        .to_string()
    }

    /// Upcoming events and meetups that were published, whether or not their
    /// publication window is still open; retracted ones as cancelled until they pass.
    fn ics(&self) -> String {
        let now = self.snapshot.built_at;
        let mut ics = Ics::new();
        ics.raw("BEGIN", "VCALENDAR")
            .raw("VERSION", "2.0")
            .raw("PRODID", "-//newsfeed//feeds//EN")
            .raw("CALSCALE", "GREGORIAN")
            .text("NAME", &self.title())
            .text("X-WR-CALNAME", &self.title());
        for item in self.snapshot.items.iter().filter(|item| {
            item.kind.is_dated()
                && self.matches(item)
                && item.fields.publish_from.is_none_or(|from| from <= now)
                && item.event_end().is_some_and(|end| end > now)
        }) {
            let fields = &item.fields;
            let (Some(starts), Some(ends)) = (fields.starts_at, item.event_end()) else {
                continue;
            };
            ics.raw("BEGIN", "VEVENT")
                .raw(
                    "UID",
                    &format!("entry-{}@{}", item.id, self.hub.settings.host),
                )
                .instant("DTSTAMP", item.changed_at)
                .instant("LAST-MODIFIED", item.changed_at)
                .instant("DTSTART", starts)
                .instant("DTEND", ends)
                .text("SUMMARY", &fields.title)
                .text("DESCRIPTION", &plain_text(&fields.content))
                .raw("URL", &item.link)
                .raw(
                    "STATUS",
                    if item.in_feed {
                        "CONFIRMED"
                    } else {
                        "CANCELLED"
                    },
                );
            if let Some(place) = fields.location_name.as_ref().or(fields.online_url.as_ref()) {
                ics.text("LOCATION", place);
            }
            if let (Some(lat), Some(lon)) = (fields.latitude, fields.longitude) {
                ics.raw("GEO", &geo(lat, lon));
            }
            if let Some(timezone) = &fields.timezone {
                // The times are UTC; the venue's zone helps clients display them.
                ics.text("X-NEWSFEED-TIMEZONE", timezone);
            }
            ics.raw("END", "VEVENT");
        }
        ics.raw("END", "VCALENDAR");
        ics.finish()
    }
}
