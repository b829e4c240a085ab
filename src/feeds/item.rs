//! One published (or recently retracted) entry, decoded once per snapshot.

use std::cmp::{Ordering, Reverse};
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;

use super::Settings;
use crate::domain::codes::Languages;
use crate::domain::entry::{EntryFields, PublishedRevision, Translation, with_entry_fields};
use crate::domain::limits::{MAX_PK, TAG_URI_YEAR};
use crate::domain::recurrence;
use crate::domain::schedule::{self, Occurrence, phase};
use crate::domain::{Attendance, EntryKind, EventStatus, GroupStatus, Phase, geo, sanitize};
use crate::entities::{entry, group};

#[derive(Debug)]
pub struct GroupInfo {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// ISO 3166 code, or empty (the public calendar filters by it).
    pub country: String,
    /// A removed group publishes nothing; its entries only go out as retractions.
    pub removed: bool,
    /// Its followers in the fediverse receive its entries.
    pub federated: bool,
}

impl From<group::Model> for GroupInfo {
    fn from(group: group::Model) -> Self {
        Self {
            id: group.id,
            name: sanitize::publishable_text(&group.name, false).into_owned(),
            slug: group.slug,
            country: group.country,
            removed: group.status == GroupStatus::Removed,
            federated: group.federated,
        }
    }
}

/// Where an entry stands in feed order, compared field by field (sticky
/// first, then higher priority, then newest `publish_from`, then newest
/// id): what the `before` cursor of a paged feed names, written
/// `{sticky 0|1}_{priority}_{publish_from}_{id}`. It stays valid while
/// entries come and go, so paging through a changing feed repeats and
/// skips nothing that kept its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    sticky: Reverse<bool>,
    priority: Reverse<i32>,
    published: Reverse<i64>,
    id: Reverse<i64>,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}_{}_{}_{}",
            u8::from(self.sticky.0),
            self.priority.0,
            self.published.0,
            self.id.0
        )
    }
}

impl std::str::FromStr for Position {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let mut parts = text.split('_');
        let mut next = || parts.next().ok_or(());
        let sticky = match next()? {
            "0" => false,
            "1" => true,
            _ => return Err(()),
        };
        let position = Self {
            sticky: Reverse(sticky),
            priority: Reverse(next()?.parse().map_err(drop)?),
            published: Reverse(next()?.parse().map_err(drop)?),
            id: Reverse(next()?.parse().map_err(drop)?),
        };
        match parts.next() {
            None => Ok(position),
            Some(_) => Err(()),
        }
    }
}

/// How long calendars keep an event after it ended: calendar apps delete
/// what vanishes from a subscription, and people look back at what was.
pub const CALENDAR_PAST_SECS: i64 = 90 * 86_400;

/// Saved areas by id, as the snapshot resolves them.
pub type Areas = HashMap<i64, Arc<[geo::Point]>>;

#[derive(Debug)]
pub struct Item {
    pub id: i64,
    pub group: Arc<GroupInfo>,
    pub kind: EntryKind,
    pub sticky: bool,
    pub priority: i32,
    /// The approved revision (not the one in review, if any), with
    /// `publish_to` the end of its window (explicit or derived).
    pub fields: EntryFields,
    /// The title as feeds give it: `Cancelled: …` or `Postponed: …` when so.
    pub headline: String,
    /// Events and meetups: their status and how people attend.
    pub event_status: Option<EventStatus>,
    pub attendance: Option<Attendance>,
    /// Every occurrence (one for a single event, none for other kinds).
    pub occurrences: Vec<Occurrence>,
    /// The occurrence that had not ended when the snapshot was built.
    pub next: Option<Occurrence>,
    /// One line saying when, where and whether it takes place (plain
    /// text; empty for announcements), at the top of every feed's text.
    pub summary: String,
    /// The content with the summary as its first paragraph: the HTML that
    /// QGIS and feed readers show (neither shows dates or places of its own).
    pub body_html: String,
    /// Published changes so far (iCalendar `SEQUENCE`).
    pub sequence: i32,
    /// Where it is delivered: its own polygon or its saved area's.
    pub area: Option<Arc<[geo::Point]>>,
    pub in_feed: bool,
    /// When the live revision last changed (approval, unpublish).
    pub changed_at: i64,
    /// When QGIS clients were last sent it as new or changed: a correction
    /// changes `changed_at` but not this, so `after` does not send it again.
    pub notified_at: i64,
    /// `publish_from` as QGIS gets it: the chosen one, else when it was
    /// published here; `None` only for a row imported from QGIS-Feed
    /// without one (sent as `null` and sorted first there, as
    /// PostgreSQL's `ORDER BY publish_from DESC` does).
    pub publish_from: Option<i64>,
    pub retracted_at: Option<i64>,
    /// Absolute image URL, or empty.
    pub image: String,
    /// Where a reader goes: the entry's URL or its public page.
    pub link: String,
    /// Stable id for Atom, RSS and JSON Feed.
    pub tag: String,
    /// The QGIS JSON object as published while live.
    pub qgis_live: String,
    /// The same with the call to action appended to `content` (QGIS before
    /// 4), when the entry has one.
    pub qgis_live_with_call: Option<String>,
    /// Once it is gone: since when, and the QGIS JSON object telling clients to drop it.
    pub qgis_gone: Option<(i64, String)>,
    /// The texts in other languages, each rendered as the main ones are.
    pub translations: Vec<Localized>,
}

/// An entry's texts in one of its translations, as feeds give them.
#[derive(Debug)]
pub struct Localized {
    pub language: String,
    pub headline: String,
    pub body_html: String,
    pub call_to_action: Option<String>,
    pub image_alt: Option<String>,
    qgis_live: String,
    qgis_live_with_call: Option<String>,
}

/// The texts a reader gets: the main ones or a translation's.
#[derive(Clone, Copy, Debug)]
pub struct Texts<'a> {
    /// Their language; `None` for main texts of an entry for every language.
    pub language: Option<&'a str>,
    pub headline: &'a str,
    pub body_html: &'a str,
    pub call_to_action: Option<&'a str>,
    pub image_alt: Option<&'a str>,
}

/// What an entry's QGIS objects share, whatever their language.
struct QgisFrame<'a> {
    id: i64,
    publish_from: Option<i64>,
    publish_to: Option<i64>,
    image: &'a str,
    url: &'a str,
    sticky: bool,
}

impl QgisFrame<'_> {
    fn object(&self, publish_to: Option<i64>, headline: &str, content: &str) -> String {
        json!({
            "pk": self.id,
            "publish_from": self.publish_from.map(|t| t as f64),
            "publish_to": publish_to.map(|t| t as f64),
            "title": sanitize::escape_html(headline),
            "image": self.image,
            "content": content,
            "url": self.url,
            "sticky": self.sticky,
        })
        .to_string()
    }

    /// The object while live, and the same with the call to action
    /// appended to `content` (QGIS before 4) when there is one.
    fn live(
        &self,
        headline: &str,
        body_html: &str,
        call: Option<&str>,
    ) -> (String, Option<String>) {
        let with_call = call.map(|call| {
            let content = format!(
                "{body_html}<p><strong>{}</strong></p>",
                sanitize::escape_html(call)
            );
            self.object(self.publish_to, headline, &content)
        });
        (self.object(self.publish_to, headline, body_html), with_call)
    }
}

impl Item {
    /// Decodes the live revision of `model`; `None` when it has none or its
    /// id does not fit the QGIS `pk`.
    pub fn from_model(
        model: entry::Model,
        group: Arc<GroupInfo>,
        areas: &Areas,
        settings: &Settings,
        now: i64,
    ) -> Option<Self> {
        let published = published_revision(&model)?;
        let live = published.live;
        let mut fields = publishable(live.fields);
        // The window's end as approval derived it (or the migration gave it).
        fields.publish_to = model.live_publish_to;
        let dated = live.kind.is_dated();
        let event_status = dated.then(|| schedule::event_status(&fields));
        let attendance = dated.then(|| schedule::attendance(&fields));
        let occurrences = schedule::occurrences(&fields, settings.event_default_secs);
        let next = schedule::next_occurrence(&occurrences, now)
            .or(occurrences.last())
            .cloned();
        let headline = headline(&fields.title, event_status);
        let summary = summary(&fields, live.kind, event_status, attendance, next.as_ref());
        let area = delivery_area(model.id, &fields, areas);
        let image = absolute(&settings.public_url, &fields.image);
        let link = if fields.url.is_empty() {
            format!("{}/entries/{}", settings.public_url, model.id)
        } else {
            fields.url.clone()
        };
        let changed_at = model.live_changed_at.unwrap_or(model.updated_at);
        let retracted_at = if model.in_feed {
            None
        } else {
            model.retracted_at
        };
        let notified_at = published.notified_at.unwrap_or(changed_at);
        let publish_from = fields.publish_from.or(published.notified_at);
        let frame = QgisFrame {
            id: model.id,
            publish_from,
            publish_to: fields.publish_to,
            image: &image,
            url: &fields.url,
            sticky: live.sticky,
        };
        let body_html = body_html(&summary, &fields.content);
        let (qgis_live, qgis_live_with_call) =
            frame.live(&headline, &body_html, fields.call_to_action.as_deref());
        let translations = localized(&frame, &fields, &summary, event_status);
        let gone_at = gone_since(&model, fields.publish_to, changed_at, now);
        let qgis_gone = gone_at.map(|at| (at, frame.object(Some(at), &headline, &body_html)));
        Some(Self {
            id: model.id,
            tag: format!("tag:{},{TAG_URI_YEAR}:entry/{}", settings.host, model.id),
            qgis_live,
            qgis_live_with_call,
            qgis_gone,
            translations,
            group,
            kind: live.kind,
            sticky: live.sticky,
            priority: live.priority,
            in_feed: model.in_feed,
            changed_at,
            notified_at,
            publish_from,
            retracted_at,
            image,
            link,
            fields,
            area,
            headline,
            event_status,
            attendance,
            occurrences,
            next,
            summary,
            body_html,
            sequence: model.live_sequence,
        })
    }

    /// The link to join online, when people attend online or hybrid.
    pub fn online_url(&self) -> Option<&str> {
        match self.attendance {
            Some(Attendance::Online | Attendance::Hybrid) => self.fields.online_url.as_deref(),
            _ => None,
        }
    }

    /// Whether readers see the entry at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.in_feed && phase(self.fields.publish_from, self.fields.publish_to, now) == Phase::Live
    }

    /// The date feeds show as published.
    pub fn published_at(&self) -> i64 {
        self.publish_from.unwrap_or(self.notified_at)
    }

    /// Whether the calendars carry it at `now`: an event or meetup whose
    /// window has opened, until [`CALENDAR_PAST_SECS`] after it ended.
    pub fn in_calendar(&self, now: i64) -> bool {
        self.kind.is_dated()
            && self.fields.publish_from.is_none_or(|from| from <= now)
            && self
                .event_end()
                .is_some_and(|end| end > now - CALENDAR_PAST_SECS)
    }

    /// When an event or meetup is over (its last occurrence).
    pub fn event_end(&self) -> Option<i64> {
        self.occurrences
            .iter()
            .map(|occurrence| occurrence.ends_at)
            .max()
    }

    /// Sticky first, then higher priority, then newest `publish_from`
    /// (none first, as on feed.qgis.org), then newest id.
    pub fn feed_order(&self, other: &Self) -> Ordering {
        self.position().cmp(&other.position())
    }

    /// Where it stands in feed order.
    pub fn position(&self) -> Position {
        Position {
            sticky: Reverse(self.sticky),
            priority: Reverse(self.priority),
            published: Reverse(self.publish_from.unwrap_or(i64::MAX)),
            id: Reverse(self.id),
        }
    }

    /// Whether QGIS clients asking for what is new since `after` get it
    /// while live. Those that drop entries sent again with a past
    /// `publish_to` (`knows_retractions`): when published or changed since,
    /// as QGIS-Feed's `modified >= after or publish_from >= after`, but a
    /// correction does not count. Older ones keep what they got for a
    /// session: only when published since (`publish_from >= after`; never
    /// without one).
    pub fn is_news_since(&self, after: f64, knows_retractions: bool) -> bool {
        let published_since = self.publish_from.is_some_and(|from| from as f64 >= after);
        published_since || (knows_retractions && self.notified_at as f64 >= after)
    }

    /// The QGIS object telling clients that asked for what changed since
    /// `after` to drop it, if it is gone: since `after`, or changed since
    /// (QGIS-Feed's "set publish_to in the past to remove it"); at most
    /// `retraction_secs` ago.
    pub fn retraction_since(&self, after: f64, now: i64, retraction_secs: i64) -> Option<&str> {
        let (at, json) = self.qgis_gone.as_ref()?;
        let told = *at as f64 >= after || (self.in_feed && self.notified_at as f64 >= after);
        (told && *at >= now - retraction_secs).then_some(json.as_str())
    }

    /// Instants at which some feed shows this item differently.
    pub fn instants(&self) -> impl Iterator<Item = i64> {
        // The next occurrence's end moves "Next:" on to the one after; an
        // event leaves the calendars some time after its end.
        [
            self.fields.publish_from,
            self.fields.publish_to,
            self.event_end(),
            self.event_end().map(|end| end + CALENDAR_PAST_SECS),
            self.next.as_ref().map(|next| next.ends_at),
        ]
        .into_iter()
        .flatten()
    }

    /// The latest instant up to `now` at which this item changed in some feed.
    pub fn last_change(&self, now: i64) -> Option<i64> {
        [Some(self.changed_at), self.retracted_at]
            .into_iter()
            .chain(self.instants().map(Some))
            .flatten()
            .filter(|instant| *instant <= now)
            .max()
    }

    /// Whether a QGIS reader with `languages` at `point` receives it (see
    /// [`geo::delivered`]).
    pub fn reaches(&self, languages: &Languages, point: Option<geo::Point>) -> bool {
        geo::delivered(
            self.fields.language.as_deref(),
            self.area.as_deref(),
            languages,
            point,
        )
    }

    /// The QGIS object while live, in the translation for `language` if
    /// it has one, with the call to action if asked for.
    pub fn qgis_object(&self, call_to_action: bool, language: Option<[u8; 2]>) -> &str {
        let (live, with_call) = match self.translation(language) {
            Some(localized) => (&localized.qgis_live, &localized.qgis_live_with_call),
            None => (&self.qgis_live, &self.qgis_live_with_call),
        };
        match with_call {
            Some(with_call) if call_to_action => with_call,
            _ => live,
        }
    }

    /// Its translation for `language`, if it has one.
    pub fn translation(&self, language: Option<[u8; 2]>) -> Option<&Localized> {
        let language = language?;
        self.translations
            .iter()
            .find(|localized| localized.language.as_bytes() == language)
    }

    /// The texts for a reader of `languages`: the translation for the
    /// first one if there is one, else the main ones.
    pub fn texts(&self, languages: &Languages) -> Texts<'_> {
        match self.translation(languages.first()) {
            Some(localized) => Texts {
                language: Some(&localized.language),
                headline: &localized.headline,
                body_html: &localized.body_html,
                call_to_action: localized.call_to_action.as_deref(),
                image_alt: localized.image_alt.as_deref(),
            },
            None => self.main_texts(),
        }
    }

    /// The texts in the main language.
    pub fn main_texts(&self) -> Texts<'_> {
        Texts {
            language: self.fields.language.as_deref(),
            headline: &self.headline,
            body_html: &self.body_html,
            call_to_action: self.fields.call_to_action.as_deref(),
            image_alt: self.fields.image_alt.as_deref(),
        }
    }

    /// Whether it is in one of `languages` (entries without one go to all).
    pub fn speaks(&self, languages: &Languages) -> bool {
        languages.is_empty()
            || self
                .fields
                .language
                .as_ref()
                .is_none_or(|language| languages.contains(language))
    }
}

/// What a text field kind of `with_entry_fields!` becomes in a feed.
macro_rules! publishable_value {
    (text, $value:expr) => {
        sanitize::publishable_text(&$value, false).into_owned()
    };
    // Cleaned on the way in; cleaned again, as the pages do, for what an
    // older version or an import stored: every feed carries it as HTML.
    (html, $value:expr) => {
        sanitize::clean_html(&sanitize::publishable_text(&$value, true))
    };
    (line, $value:expr) => {
        $value.map(|text| sanitize::publishable_text(&text, false).into_owned())
    };
    (list, $value:expr) => {
        $value
            .into_iter()
            .map(|text| sanitize::publishable_text(&text, false).into_owned())
            .collect()
    };
    (moves, $value:expr) => {
        $value
            .into_iter()
            .map(|(from, to)| {
                (
                    sanitize::publishable_text(&from, false).into_owned(),
                    sanitize::publishable_text(&to, false).into_owned(),
                )
            })
            .collect()
    };
    (translations, $value:expr) => {
        $value
            .into_iter()
            .map(|(language, translation)| {
                (
                    language,
                    Translation {
                        title: publishable_value!(text, translation.title),
                        content: publishable_value!(html, translation.content),
                        call_to_action: publishable_value!(line, translation.call_to_action),
                        image_alt: publishable_value!(line, translation.image_alt),
                    },
                )
            })
            .collect()
    };
    ($kind:ident, $value:expr) => {
        $value
    };
}

macro_rules! publishable_fields {
    (
        common: [$($common_kind:ident $common:ident $common_doc:literal),* $(,)?],
        kind: [$($kind_kind:ident $kind:ident $kind_doc:literal),* $(,)?] $(,)?
    ) => {
        /// `fields` with every text cleaned of what no feed may carry.
        fn publishable(fields: EntryFields) -> EntryFields {
            EntryFields {
                $($common: publishable_value!($common_kind, fields.$common),)*
                $($kind: publishable_value!($kind_kind, fields.$kind),)*
            }
        }
    };
}

with_entry_fields!(publishable_fields);

/// The published revision of `model`; `None` when it has none, it is
/// unreadable or its id does not fit the QGIS `pk`.
fn published_revision(model: &entry::Model) -> Option<PublishedRevision> {
    if model.id > MAX_PK {
        tracing::warn!(id = model.id, "entry id too large for QGIS; not published");
        return None;
    }
    match serde_json::from_str(model.live_revision.as_deref()?) {
        Ok(published) => Some(published),
        Err(error) => {
            tracing::error!(id = model.id, %error, "unreadable live revision; not published");
            None
        }
    }
}

/// Since when an entry is gone from the feeds (withdrawn or unpublished,
/// or its window ended by `now`), if it is.
fn gone_since(
    model: &entry::Model,
    publish_to: Option<i64>,
    changed_at: i64,
    now: i64,
) -> Option<i64> {
    match (model.in_feed, publish_to) {
        (false, _) => Some(model.retracted_at.unwrap_or(changed_at)),
        (true, Some(to)) if to <= now => Some(to),
        _ => None,
    }
}

/// Where an entry is delivered: its own polygon or its saved area's.
fn delivery_area(id: i64, fields: &EntryFields, areas: &Areas) -> Option<Arc<[geo::Point]>> {
    match (&fields.target_area, fields.target_area_id) {
        (Some(polygon), _) => Some(Arc::from(polygon.as_slice())),
        (None, Some(area)) => Some(areas.get(&area).cloned().unwrap_or_else(|| {
            // Deleting an area in use is refused; should one vanish
            // anyway, its entries reach nobody by place rather than everybody.
            tracing::warn!(id, area, "saved area missing; delivered by language only");
            Arc::from([])
        })),
        (None, None) => None,
    }
}

/// The translations of `fields`, rendered as the main texts are (the
/// summary of dates and places stays as it is).
fn localized(
    frame: &QgisFrame<'_>,
    fields: &EntryFields,
    summary: &str,
    event_status: Option<EventStatus>,
) -> Vec<Localized> {
    fields
        .translations
        .keys()
        .filter_map(|language| {
            let texts = fields.in_language(language)?;
            let headline = headline(&texts.title, event_status);
            let body_html = body_html(summary, &texts.content);
            let (qgis_live, qgis_live_with_call) =
                frame.live(&headline, &body_html, texts.call_to_action.as_deref());
            Some(Localized {
                language: language.clone(),
                headline,
                body_html,
                call_to_action: texts.call_to_action,
                image_alt: texts.image_alt,
                qgis_live,
                qgis_live_with_call,
            })
        })
        .collect()
}

/// The title feeds give: `Cancelled: …` or `Postponed: …` when so.
fn headline(title: &str, status: Option<EventStatus>) -> String {
    match status {
        Some(EventStatus::Cancelled) => format!("Cancelled: {title}"),
        Some(EventStatus::Postponed) => format!("Postponed: {title}"),
        _ => title.to_string(),
    }
}

/// The text as every feed gives it: the summary (escaped) leads.
fn body_html(summary: &str, content: &str) -> String {
    if summary.is_empty() {
        content.to_string()
    } else {
        format!("<p>{}</p>{content}", sanitize::escape_html(summary))
    }
}

/// `Cancelled · Next: Thu 21 January 2027, 18:30–20:30 CET (every month on
/// the 3rd Thursday) · Bonn · online`: when, where and whether, in words.
fn summary(
    fields: &EntryFields,
    kind: EntryKind,
    status: Option<EventStatus>,
    attendance: Option<Attendance>,
    next: Option<&Occurrence>,
) -> String {
    let mut parts = Vec::new();
    match status {
        Some(EventStatus::Confirmed) | None => {}
        Some(EventStatus::Tentative) => parts.push("Tentative".to_string()),
        Some(EventStatus::Postponed) => parts.push("Postponed".to_string()),
        Some(EventStatus::Cancelled) => parts.push("Cancelled".to_string()),
    }
    if let (Some(next), Some(zone)) = (next, schedule::zone_of(fields)) {
        let when = recurrence::when(next.starts_at, next.ends_at, zone);
        parts.push(match &fields.recurrence {
            Some(rule) => format!("Next: {when} ({})", recurrence::describe_rule(rule)),
            None => when,
        });
    }
    if let Some(place) = &fields.location_name {
        parts.push(place.clone());
    }
    match attendance {
        Some(Attendance::Online) => parts.push("online".into()),
        Some(Attendance::Hybrid) => parts.push("in person and online".into()),
        _ => {}
    }
    if kind == EntryKind::Crowdfunding {
        if let (Some(goal), Some(currency)) = (fields.goal_amount, &fields.currency) {
            parts.push(match fields.raised_amount {
                Some(raised) => format!("{raised} of {goal} {currency} raised"),
                None => format!("Goal: {goal} {currency}"),
            });
        }
        if let Some(deadline) = fields.deadline {
            parts.push(format!(
                "until {}",
                chrono::DateTime::from_timestamp(deadline, 0)
                    .unwrap_or_default()
                    .format("%-d %B %Y")
            ));
        }
    }
    parts.join(" · ")
}

/// `url` made absolute against the public URL (stored images may be paths).
fn absolute(public_url: &str, url: &str) -> String {
    if url.starts_with('/') && !url.starts_with("//") {
        format!("{public_url}{url}")
    } else {
        url.to_string()
    }
}
