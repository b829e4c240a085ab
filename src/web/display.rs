//! What pages show, computed once in Rust so templates only print: status
//! badges, times, the QGIS previews, history lines and option lists.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use crate::domain::Phase;
use crate::domain::entry::{EntryFields, TRANSLATION_PARTS, Translation, translation_field};
use crate::domain::sanitize::clean_html;
use crate::domain::schedule::{Timing, phase, publish_until, zone_of};
use crate::domain::{Action, Attendance, EntryKind, EntryStatus, EventStatus, codes, country};
use crate::entities::{entry, entry_event, group};

/// A status as text (never colour alone) and the class that colours it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Badge {
    pub label: &'static str,
    pub class: &'static str,
}

/// The status people read: approved entries are Upcoming, Live or Expired
/// by their publication window.
pub fn badge(entry: &entry::Model, now: i64) -> Badge {
    let (label, class) = match entry.status {
        EntryStatus::Draft => ("Draft", "draft"),
        EntryStatus::Pending => ("Pending", "pending"),
        EntryStatus::ChangesRequested => ("Changes requested", "changes"),
        // The published window's end, as approval derived it.
        EntryStatus::Approved => match phase(entry.publish_from, entry.live_publish_to, now) {
            Phase::Upcoming => ("Upcoming", "upcoming"),
            Phase::Live => ("Live", "live"),
            Phase::Ended => ("Ended", "expired"),
        },
        EntryStatus::Rejected => ("Rejected", "rejected"),
        EntryStatus::Withdrawn => ("Withdrawn", "withdrawn"),
        EntryStatus::Unpublished => ("Unpublished", "unpublished"),
    };
    Badge { label, class }
}

/// The badge of an event that does not simply take place as announced.
pub fn event_badge(status: EventStatus) -> Option<Badge> {
    let class = match status {
        EventStatus::Confirmed => return None,
        EventStatus::Tentative => "pending",
        EventStatus::Postponed => "changes",
        EventStatus::Cancelled => "rejected",
    };
    Some(Badge {
        label: event_status_label(status),
        class,
    })
}

pub fn event_status_label(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Confirmed => "Confirmed",
        EventStatus::Tentative => "Tentative",
        EventStatus::Postponed => "Postponed",
        EventStatus::Cancelled => "Cancelled",
    }
}

pub fn attendance_label(attendance: Attendance) -> &'static str {
    match attendance {
        Attendance::InPerson => "In person",
        Attendance::Online => "Online",
        Attendance::Hybrid => "In person and online",
    }
}

/// A stored status in words.
pub fn status_label(status: EntryStatus) -> &'static str {
    match status {
        EntryStatus::Draft => "Draft",
        EntryStatus::Pending => "Pending",
        EntryStatus::ChangesRequested => "Changes requested",
        EntryStatus::Approved => "Approved",
        EntryStatus::Rejected => "Rejected",
        EntryStatus::Withdrawn => "Withdrawn",
        EntryStatus::Unpublished => "Unpublished",
    }
}

pub fn kind_label(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Event => "Event",
        EntryKind::Meetup => "Meetup",
        EntryKind::Crowdfunding => "Crowdfunding",
        EntryKind::Announcement => "Announcement",
    }
}

pub fn date(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// `2027-03-04 17:00 UTC`
pub fn utc(seconds: i64) -> String {
    date(seconds).format("%Y-%m-%d %H:%M UTC").to_string()
}

/// When an event or meetup happens (its first meeting), in the venue's zone:
/// `Sat 4 May 2030, 18:00–21:00 CEST`, as every page and feed says it.
pub fn event_dates(fields: &EntryFields) -> Option<String> {
    let starts = fields.starts_at?;
    let zone = crate::domain::schedule::zone_of(fields).unwrap_or(Tz::UTC);
    Some(match fields.ends_at {
        Some(ends) => crate::domain::recurrence::when(starts, ends, zone),
        None => crate::domain::recurrence::at_venue(starts, zone),
    })
}

/// The window an entry of `kind` gets, in words: "In QGIS and the feeds
/// from approval until Thu 10 June 2027, 17:00 CEST" (in the venue's zone
/// for events, else UTC).
pub fn window_sentence(kind: EntryKind, fields: &EntryFields, timing: &Timing) -> String {
    let zone = zone_of(fields).unwrap_or(Tz::UTC);
    let at = |instant: i64| crate::domain::recurrence::at_venue(instant, zone);
    let later = fields.publish_from.filter(|from| *from > timing.now);
    let from = later.map_or_else(
        || "from approval".to_string(),
        |from| format!("from {}", at(from)),
    );
    if kind == EntryKind::Announcement && fields.publish_to.is_none() && later.is_none() {
        let days = timing.announcement_secs / 86_400;
        return format!("In QGIS and the feeds {from}, for {days} days");
    }
    let until = publish_until(kind, fields, later.unwrap_or(timing.now), timing).map(at);
    match until {
        Some(until) => format!("In QGIS and the feeds {from} until {until}"),
        None => format!("In QGIS and the feeds {from}, until its dates are set"),
    }
}

/// A link to the venue on OpenStreetMap.
pub fn map_link(fields: &EntryFields) -> Option<String> {
    let (lat, lon) = (fields.latitude?, fields.longitude?);
    Some(format!(
        "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
    ))
}

/// An entry as QGIS desktop and the public pages will show it.
#[derive(Clone, Debug, Default)]
pub struct Preview {
    pub title: String,
    /// Sanitized HTML, safe to insert.
    pub content: String,
    pub image: String,
    /// What the image shows (empty: none given).
    pub image_alt: String,
    pub url: String,
    pub call_to_action: String,
    pub sticky: bool,
    pub kind: &'static str,
    pub group: String,
    pub dates: String,
    pub place: String,
}

impl Preview {
    pub fn of(fields: &EntryFields, kind: EntryKind, sticky: bool, group: &str) -> Self {
        Self {
            title: fields.title.clone(),
            content: clean_html(&fields.content),
            image: fields.image.clone(),
            image_alt: fields.image_alt.clone().unwrap_or_default(),
            url: fields.url.clone(),
            call_to_action: fields.call_to_action.clone().unwrap_or_default(),
            sticky,
            kind: kind_label(kind),
            group: group.to_string(),
            dates: event_dates(fields).unwrap_or_default(),
            place: fields.location_name.clone().unwrap_or_default(),
        }
    }
}

/// One changed field: before and after, as text.
#[derive(Clone, Debug)]
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

const INSTANT_FIELDS: [&str; 5] = [
    "publish_from",
    "publish_to",
    "starts_at",
    "ends_at",
    "deadline",
];

fn shown(field: &str, value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(text) if text.is_empty() => "—".into(),
        Value::String(text) => text.clone(),
        Value::Number(number) if INSTANT_FIELDS.contains(&field) => {
            number.as_i64().map_or_else(|| number.to_string(), utc)
        }
        other => other.to_string(),
    }
}

/// Every field an entry publishes, in the form's order, as label and
/// text (links and coordinates spelled out); empty fields are left out.
pub fn published_fields(fields: &EntryFields) -> Vec<(String, String)> {
    let Ok(Value::Object(values)) = serde_json::to_value(fields) else {
        return Vec::new();
    };
    EntryFields::NAMES
        .iter()
        // Translations have their own section (`translations`).
        .filter(|name| **name != "translations")
        .filter_map(|name| {
            let value = values.get(*name)?;
            let empty = match value {
                Value::Null => true,
                Value::String(text) => text.is_empty(),
                Value::Array(items) => items.is_empty(),
                Value::Object(map) => map.is_empty(),
                _ => false,
            };
            if empty {
                return None;
            }
            let text = match (*name, value) {
                ("target_area", Value::Array(points)) => {
                    let corners: Vec<String> = points
                        .iter()
                        .map(|point| match (point.get(0), point.get(1)) {
                            (Some(lon), Some(lat)) => format!("lat {lat}, lon {lon}"),
                            _ => point.to_string(),
                        })
                        .collect();
                    format!("{} corners: {}", corners.len(), corners.join("; "))
                }
                _ => shown(name, value),
            };
            Some((field_label(name), text))
        })
        .collect()
}

/// `{field: [old, new]}` as rows; translations as a row per changed text,
/// named as the API names it (`translations.fr.title`).
pub fn changes(map: &serde_json::Map<String, Value>) -> Vec<Change> {
    map.iter()
        .flat_map(|(field, pair)| {
            let before = pair.get(0).unwrap_or(&Value::Null);
            let after = pair.get(1).unwrap_or(&Value::Null);
            if field == "translations" {
                translation_changes(before, after)
            } else {
                vec![Change {
                    field: field.clone(),
                    before: shown(field, before),
                    after: shown(field, after),
                }]
            }
        })
        .collect()
}

/// The texts that differ between two revisions' translations.
fn translation_changes(before: &Value, after: &Value) -> Vec<Change> {
    let codes: std::collections::BTreeSet<&String> = [before, after]
        .into_iter()
        .filter_map(Value::as_object)
        .flat_map(serde_json::Map::keys)
        .collect();
    codes
        .into_iter()
        .flat_map(|code| {
            TRANSLATION_PARTS.iter().filter_map(move |part| {
                let before = shown(part, &before[code.as_str()][part]);
                let after = shown(part, &after[code.as_str()][part]);
                (before != after).then(|| Change {
                    field: format!("translations.{code}.{part}"),
                    before,
                    after,
                })
            })
        })
        .collect()
}

/// One translation of an entry as the moderator reads it; an empty text
/// falls back to the main one.
#[derive(Clone, Debug)]
pub struct TranslationShown {
    pub code: String,
    /// `French (fr)`.
    pub label: String,
    pub texts: Translation,
}

/// Every translation of an entry, by language code.
pub fn translations(fields: &EntryFields) -> Vec<TranslationShown> {
    fields
        .translations
        .iter()
        .map(|(code, texts)| TranslationShown {
            code: code.clone(),
            label: language_label(code),
            texts: texts.clone(),
        })
        .collect()
}

/// One line of an entry's timeline.
#[derive(Clone, Debug)]
pub struct HistoryLine {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub to: String,
    pub comment: String,
    pub changes: Vec<Change>,
}

pub fn history(events: &[entry_event::Model]) -> Vec<HistoryLine> {
    events
        .iter()
        .rev()
        .map(|event| HistoryLine {
            when: utc(event.created_at),
            actor: event.actor_name.clone(),
            action: action_label(event.action).into(),
            to: event
                .to_status
                .filter(|to| Some(*to) != event.from_status)
                .map(|to| to.as_str().replace('_', " "))
                .unwrap_or_default(),
            comment: event.comment.clone().unwrap_or_default(),
            changes: event
                .changes
                .as_deref()
                .and_then(|text| serde_json::from_str::<serde_json::Map<String, Value>>(text).ok())
                .map(|map| changes(&map))
                .unwrap_or_default(),
        })
        .collect()
}

pub fn action_label(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Edit => "edited",
        Action::Submit => "submitted",
        Action::Withdraw => "withdrew",
        Action::Approve => "approved",
        Action::Reject => "rejected",
        Action::RequestChanges => "asked for changes",
        Action::Unpublish => "unpublished",
        Action::Comment => "commented",
        Action::Update => "updated the published entry",
    }
}

/// How a form labels a field named as in the API.
pub fn field_label(field: &str) -> String {
    if let Some((code, part)) = translation_field(field) {
        return format!("{} in {}", field_label(part), language_label(code));
    }
    known_label(field).map_or_else(
        || {
            let text = field.replace('_', " ");
            let mut chars = text.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        },
        str::to_string,
    )
}

/// The label of a field whose API name is not its label in plain words.
fn known_label(field: &str) -> Option<&'static str> {
    match field {
        "call_to_action" => Some("Call to action"),
        "url" => Some("Link (URL)"),
        "content" => Some("Text"),
        "image" => Some("Image URL"),
        "image_file" => Some("Picture"),
        "image_alt" => Some("What the image shows"),
        "online_url" => Some("Online link"),
        "location_name" => Some("Venue"),
        "goal_amount" => Some("Goal"),
        "raised_amount" => Some("Raised so far"),
        "starts_at" => Some("Starts"),
        "ends_at" => Some("Ends"),
        "event_status" => Some("Status"),
        "recurrence" => Some("Advanced: RRULE"),
        "exdates" => Some("Cancelled meetings"),
        "moved_occurrences" => Some("Moved meetings"),
        "publish_from" => Some("Publish from"),
        "publish_to" => Some("Publish until"),
        "target_area" => Some("Target area"),
        "target_area_id" => Some("Saved area"),
        "timezone" => Some("Time zone"),
        "group_name" => Some("Group name"),
        "contact_email" => Some("Contact email"),
        "current_password" => Some("Current password"),
        "password" => Some("New password"),
        "password_confirmation" => Some("New password again"),
        "display_name" => Some("Name"),
        _ => None,
    }
}

/// A field error as the form's reader says it: the other fields it names
/// by their labels (`must be after publish_from` is the API's wording, for
/// programs; "must be after Publish from" the page's). Values that look
/// like names (`in_person`) stay as they are.
pub fn readable_message(field: &str, message: &str) -> String {
    match (field, message) {
        ("ends_at", "must not be before starts_at") => "must be after Starts".to_string(),
        ("target_area_id", _) if message.contains("target_area") => {
            "choose a saved area or draw one below, not both".to_string()
        }
        _ => message
            .split(' ')
            .map(|word| {
                let name = word.trim_end_matches([',', '.', ':', ';']);
                // A name with an underscore or a coordinate, not a word of prose.
                let named = (name.contains('_') && known_label(name).is_some())
                    || matches!(name, "latitude" | "longitude");
                if named {
                    word.replacen(name, &field_label(name), 1)
                } else {
                    word.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A field error as one sentence naming the field by its label: "Ends must
/// be after Starts". Messages that are not a predicate keep a colon.
pub fn error_sentence(field: &str, message: &str) -> String {
    let message = readable_message(field, message);
    let predicate = ["must ", "is ", "has ", "only ", "cannot ", "should "]
        .iter()
        .any(|verb| message.starts_with(verb));
    let label = field_label(field);
    if predicate {
        format!("{label} {message}")
    } else {
        format!("{label}: {message}")
    }
}

/// A choice in a `<select>`.
#[derive(Clone, Debug)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// `choices` headed by the empty value `label` ("Any kind", "No group").
pub fn with_blank(label: &str, choices: impl IntoIterator<Item = Choice>) -> Vec<Choice> {
    std::iter::once(Choice::new("", label))
        .chain(choices)
        .collect()
}

/// Groups by slug, named.
pub fn group_choices(groups: &[group::Model]) -> impl Iterator<Item = Choice> + '_ {
    groups
        .iter()
        .map(|group| Choice::new(&group.slug, &group.name))
}

/// English names of the languages groups write in most; other codes show as codes.
const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("ar", "Arabic"),
    ("bg", "Bulgarian"),
    ("ca", "Catalan"),
    ("cs", "Czech"),
    ("da", "Danish"),
    ("de", "German"),
    ("el", "Greek"),
    ("en", "English"),
    ("es", "Spanish"),
    ("et", "Estonian"),
    ("eu", "Basque"),
    ("fa", "Persian"),
    ("fi", "Finnish"),
    ("fr", "French"),
    ("gl", "Galician"),
    ("he", "Hebrew"),
    ("hi", "Hindi"),
    ("hr", "Croatian"),
    ("hu", "Hungarian"),
    ("id", "Indonesian"),
    ("is", "Icelandic"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("lt", "Lithuanian"),
    ("lv", "Latvian"),
    ("nb", "Norwegian Bokmål"),
    ("nl", "Dutch"),
    ("no", "Norwegian"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("ro", "Romanian"),
    ("ru", "Russian"),
    ("sk", "Slovak"),
    ("sl", "Slovenian"),
    ("sr", "Serbian"),
    ("sv", "Swedish"),
    ("sw", "Swahili"),
    ("th", "Thai"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("vi", "Vietnamese"),
    ("zh", "Chinese"),
];

/// `German (de)` for a code with a known name, else the code.
pub fn language_label(code: &str) -> String {
    LANGUAGE_NAMES
        .iter()
        .find(|(known, _)| *known == code)
        .map_or_else(|| code.to_string(), |(_, name)| format!("{name} ({code})"))
}

/// Every ISO 639-1 code, named ones first; the empty choice means every language.
pub fn languages() -> Vec<Choice> {
    let mut choices = vec![Choice::new("", "Every language")];
    choices.extend(
        LANGUAGE_NAMES
            .iter()
            .map(|(code, name)| Choice::new(*code, format!("{name} ({code})"))),
    );
    choices.extend(
        codes::LANGUAGES
            .iter()
            .filter(|code| !LANGUAGE_NAMES.iter().any(|(named, _)| named == *code))
            .map(|code| Choice::new(*code, *code)),
    );
    choices
}

/// `(countries, zone)` rows of tzdata's zone1970.tab.
static ZONES: LazyLock<Vec<(Vec<&'static str>, &'static str)>> = LazyLock::new(|| {
    include_str!("zones.tsv")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t'))
        .map(|(countries, zone)| (countries.split(',').collect(), zone))
        .collect()
});

/// Every time zone, the zones of `country` first (then UTC, then the rest by name).
pub fn timezones(country: &str) -> Vec<Choice> {
    let mut local: Vec<&str> = ZONES
        .iter()
        .filter(|(countries, _)| countries.contains(&country))
        .map(|(_, zone)| *zone)
        .collect();
    local.sort_unstable();
    let mut rest: Vec<&str> = ZONES
        .iter()
        .map(|(_, zone)| *zone)
        .filter(|zone| !local.contains(zone))
        .collect();
    rest.sort_unstable();
    local
        .into_iter()
        .chain(std::iter::once("UTC"))
        .chain(rest)
        .map(|zone| Choice::new(zone, zone.replace('_', " ")))
        .collect()
}

/// Countries by name (`Switzerland (CH)`); the empty choice is an
/// international group.
pub fn countries() -> Vec<Choice> {
    let mut named: Vec<&country::Country> = country::all().iter().collect();
    named.sort_by(|a, b| a.name.cmp(b.name));
    std::iter::once(Choice::new("", "International / none"))
        .chain(
            named
                .into_iter()
                .map(|known| Choice::new(known.code, format!("{} ({})", known.name, known.code))),
        )
        .collect()
}

/// A country's name for a code (`Switzerland`), or `International` for none.
pub fn country_name(code: &str) -> &str {
    if code.is_empty() {
        "International"
    } else {
        country::name(code)
    }
}

/// ISO 4217 codes, the most used first.
pub fn currencies() -> Vec<Choice> {
    const FIRST: [&str; 6] = ["EUR", "USD", "GBP", "BRL", "CHF", "JPY"];
    FIRST
        .iter()
        .copied()
        .chain(
            codes::CURRENCIES
                .iter()
                .copied()
                .filter(|code| !FIRST.contains(code)),
        )
        .map(|code| Choice::new(code, code))
        .collect()
}

pub fn event_statuses() -> Vec<Choice> {
    <EventStatus as crate::domain::TextEnum>::ALL
        .iter()
        .map(|status| Choice::new(status.as_str(), event_status_label(*status)))
        .collect()
}

pub fn kinds() -> Vec<Choice> {
    <EntryKind as crate::domain::TextEnum>::ALL
        .iter()
        .map(|kind| Choice::new(kind.as_str(), kind_label(*kind)))
        .collect()
}

/// Page links of a list: `offset`s of the previous and next pages.
#[derive(Clone, Debug, Default)]
pub struct Pager {
    pub total: u64,
    pub from: u64,
    pub to: u64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the list's query string without `offset`.
    pub fn new(total: u64, offset: u64, limit: u64, shown: usize, base: &str) -> Self {
        let link = |offset: u64| {
            if base.is_empty() {
                format!("?offset={offset}")
            } else {
                format!("?{base}&offset={offset}")
            }
        };
        Self {
            total,
            from: if shown == 0 { 0 } else { offset + 1 },
            to: offset + shown as u64,
            previous: (offset > 0).then(|| link(offset.saturating_sub(limit))),
            next: (offset + (shown as u64) < total).then(|| link(offset + limit)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_fields_as_the_form_does() {
        assert_eq!(
            error_sentence("ends_at", "must not be before starts_at"),
            "Ends must be after Starts"
        );
        assert_eq!(
            error_sentence("publish_to", "must be after publish_from"),
            "Publish until must be after Publish from"
        );
        assert_eq!(
            readable_message("latitude", "must be given with longitude"),
            "must be given with Longitude"
        );
        // Values are not field names; prose that is not a predicate keeps a colon.
        assert_eq!(
            readable_message("attendance", "must be in_person, online or hybrid"),
            "must be in_person, online or hybrid"
        );
        assert_eq!(
            error_sentence("comment", "a reason is required to reject"),
            "Comment: a reason is required to reject"
        );
        assert_eq!(
            error_sentence("translations.fr.call_to_action", "must not be empty"),
            "Call to action in French (fr) must not be empty"
        );
    }

    #[test]
    fn a_groups_zones_come_first() {
        let zones = timezones("DE");
        assert_eq!(zones[0].value, "Europe/Berlin");
        assert!(zones.iter().any(|zone| zone.value == "America/Sao_Paulo"));
        assert!(zones.iter().all(|zone| zone.value.parse::<Tz>().is_ok()));
        assert_eq!(timezones("")[0].value, "UTC");
    }

    #[test]
    fn pages_link_back_and_forth() {
        let pager = Pager::new(45, 20, 20, 20, "status=draft");
        assert_eq!(pager.previous.as_deref(), Some("?status=draft&offset=0"));
        assert_eq!(pager.next.as_deref(), Some("?status=draft&offset=40"));
        assert_eq!((pager.from, pager.to), (21, 40));
    }
}
