//! What an entry page offers calendars and search engines: "Add to
//! calendar" links (Google Calendar, Outlook on the web), `webcal://`
//! subscriptions, and the schema.org JSON-LD that describes the entry.

use chrono_tz::Tz;
use serde_json::{Value, json};

use super::display::date;
use crate::domain::sanitize::plain_text;
use crate::domain::schedule::{self, Occurrence};
use crate::domain::{Attendance, EntryKind, EventStatus};
use crate::feeds::Item;

/// The same feed as a calendar subscription: `webcal://host/path` for an
/// `https://host/path` (or `http://`) URL.
pub fn webcal(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    format!("webcal://{rest}")
}

/// The calendar feed under `prefix` (`` or `/groups/x`) as
/// `(webcal://…, https://…)`.
pub fn calendar_feed(public_url: &str, prefix: &str) -> (String, String) {
    let url = format!("{public_url}{prefix}/feed.ics");
    (webcal(&url), url)
}

/// `base?query` with `pairs` (empty ones left out) form-encoded.
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()))
        .finish();
    format!("{base}?{query}")
}

/// ISO 8601 with the venue's offset: `2027-06-10T15:00:00+02:00`.
pub fn iso_in(instant: i64, zone: Tz) -> String {
    date(instant)
        .with_timezone(&zone)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// The text a calendar event carries: the one-line summary, the text, and
/// the page it comes from.
fn details(item: &Item, page_url: &str) -> String {
    [
        item.summary.clone(),
        plain_text(&item.fields.content).trim().to_string(),
        page_url.to_string(),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join("\n\n")
}

/// Where a calendar says it happens: the venue, or the online link.
fn location(item: &Item) -> &str {
    item.fields
        .location_name
        .as_deref()
        .or_else(|| item.online_url())
        .unwrap_or_default()
}

/// The occurrence links are about: the first of a series (the rule
/// repeats it), else the next one.
fn first_or_next(item: &Item) -> Option<&Occurrence> {
    if item.fields.recurrence.is_some() {
        item.occurrences.first()
    } else {
        item.next.as_ref()
    }
}

/// "Add to calendar" links of an event or meetup: `(label, href)`.
pub fn add_links(item: &Item, page_url: &str) -> Vec<(&'static str, String)> {
    let Some(occurrence) = first_or_next(item) else {
        return Vec::new();
    };
    let zone = schedule::zone_of(&item.fields).unwrap_or(Tz::UTC);
    let text = details(item, page_url);
    let place = location(item);
    let stamp = |at: i64| date(at).format("%Y%m%dT%H%M%SZ").to_string();
    let dates = format!(
        "{}/{}",
        stamp(occurrence.starts_at),
        stamp(occurrence.ends_at)
    );
    let recur = item
        .fields
        .recurrence
        .as_ref()
        .map(|rule| format!("RRULE:{rule}"))
        .unwrap_or_default();
    let google = with_query(
        "https://calendar.google.com/calendar/render",
        &[
            ("action", "TEMPLATE"),
            ("text", &item.headline),
            ("dates", &dates),
            ("ctz", zone.name()),
            ("details", &text),
            ("location", place),
            ("recur", &recur),
        ],
    );
    let (starts, ends) = (
        iso_in(occurrence.starts_at, zone),
        iso_in(occurrence.ends_at, zone),
    );
    let outlook = with_query(
        "https://outlook.live.com/calendar/0/deeplink/compose",
        &[
            ("path", "/calendar/action/compose"),
            ("rru", "addevent"),
            ("subject", &item.headline),
            ("startdt", &starts),
            ("enddt", &ends),
            ("location", place),
            ("body", &text),
        ],
    );
    vec![
        ("Calendar file (.ics)", format!("/entries/{}.ics", item.id)),
        ("Google Calendar", google),
        ("Outlook on the web", outlook),
    ]
}

/// The schema.org description of an entry, as the body of a
/// `<script type="application/ld+json">`: `Event` for events and meetups,
/// `NewsArticle` for the rest. `</` and `<!--` are escaped so that no
/// text can end the script element.
pub fn json_ld(item: &Item, page_url: &str, group_url: &str) -> String {
    let group = json!({"@type": "Organization", "name": item.group.name, "url": group_url});
    let description = plain_text(&item.fields.content).trim().to_string();
    let mut value = if item.kind.is_dated() {
        event(item, group, description)
    } else {
        json!({
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": item.headline,
            "datePublished": date(item.published_at()).to_rfc3339(),
            "dateModified": date(item.changed_at).to_rfc3339(),
            "description": description,
            "author": group.clone(),
            "publisher": group,
        })
    };
    value["url"] = json!(page_url);
    if !item.image.is_empty() {
        value["image"] = json!([item.image]);
    }
    value
        .to_string()
        .replace("</", "<\\/")
        .replace("<!--", "<\\u0021--")
}

fn event(item: &Item, organizer: Value, description: String) -> Value {
    let zone = schedule::zone_of(&item.fields).unwrap_or(Tz::UTC);
    let status = match item.event_status {
        Some(EventStatus::Cancelled) => "https://schema.org/EventCancelled",
        Some(EventStatus::Postponed) => "https://schema.org/EventPostponed",
        _ => "https://schema.org/EventScheduled",
    };
    let mode = match item.attendance {
        Some(Attendance::Online) => "https://schema.org/OnlineEventAttendanceMode",
        Some(Attendance::Hybrid) => "https://schema.org/MixedEventAttendanceMode",
        _ => "https://schema.org/OfflineEventAttendanceMode",
    };
    let fields = &item.fields;
    let place = fields.location_name.as_ref().map(|name| {
        let mut place = json!({"@type": "Place", "name": name, "address": name});
        if let (Some(latitude), Some(longitude)) = (fields.latitude, fields.longitude) {
            place["geo"] =
                json!({"@type": "GeoCoordinates", "latitude": latitude, "longitude": longitude});
        }
        place
    });
    let virtual_place = item
        .online_url()
        .map(|url| json!({"@type": "VirtualLocation", "url": url}));
    let location = match (place, virtual_place) {
        (Some(place), Some(online)) => json!([place, online]),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => Value::Null,
    };
    let mut value = json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": item.fields.title,
        "description": description,
        "eventStatus": status,
        "eventAttendanceMode": mode,
        "organizer": organizer,
    });
    if let Some(next) = &item.next {
        value["startDate"] = json!(iso_in(next.starts_at, zone));
        value["endDate"] = json!(iso_in(next.ends_at, zone));
    }
    if !location.is_null() {
        value["location"] = location;
    }
    if item.kind == EntryKind::Meetup {
        value["keywords"] = json!("meetup");
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webcal_replaces_the_scheme() {
        assert_eq!(
            webcal("https://news.example.org/groups/a/feed.ics"),
            "webcal://news.example.org/groups/a/feed.ics"
        );
        assert_eq!(
            webcal("http://localhost:8080/feed.ics"),
            "webcal://localhost:8080/feed.ics"
        );
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            with_query(
                "https://calendar.google.com/calendar/render",
                &[("text", "A & B = <c>"), ("empty", "")]
            ),
            "https://calendar.google.com/calendar/render?text=A+%26+B+%3D+%3Cc%3E"
        );
    }
}
