//! Events of a calendar a group keeps elsewhere (an iCalendar file from
//! Google, Meetup, Nextcloud, Thunderbird...) read as entry fields: each
//! VEVENT by its UID, validated as any entry is, with what could not be
//! kept said in a line for the run's log.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::parser::{Component, Property, read_calendar, unfold};
use sha2::{Digest, Sha256};

use super::entry::{EntryFields, validate};
use super::recurrence::local_name;
use super::schedule::event_end;
use super::{EntryKind, limits, sanitize};

/// Most problems one run keeps (a broken export would repeat one per event).
pub const MAX_PROBLEMS: usize = 50;

/// One event of the source, as the fields of an entry.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceEvent {
    pub uid: String,
    pub fields: EntryFields,
    /// Hash of `fields`: a change of the source changes it.
    pub hash: String,
}

/// What a calendar file holds: its events, and what could not be taken.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceCalendar {
    pub events: Vec<SourceEvent>,
    /// Events that are over, left out (they are not published).
    pub past: usize,
    pub problems: Vec<String>,
}

impl SourceCalendar {
    fn note(&mut self, problem: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem);
        }
    }
}

/// How entries made from the source are checked.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    pub kind: EntryKind,
    pub content_max_chars: usize,
    pub now: i64,
    pub event_default_secs: i64,
}

/// Reads an iCalendar document; `Err` when it is not one at all.
pub fn read(text: &str, reading: Reading) -> Result<SourceCalendar, String> {
    let unfolded = unfold(text.trim_start_matches('\u{feff}'));
    let calendar = read_calendar(&unfolded).map_err(|_| {
        "not an iCalendar file: it could not be parsed (BEGIN:VCALENDAR ... END:VCALENDAR)"
            .to_string()
    })?;
    if !text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with("BEGIN:VCALENDAR")
    {
        return Err("not an iCalendar file: it does not start with BEGIN:VCALENDAR".into());
    }
    let mut found = SourceCalendar::default();
    let mut seen = std::collections::HashSet::new();
    for component in calendar.components.iter().filter(|c| c.name == "VEVENT") {
        let Some(uid) = text_of(component, "UID").filter(|uid| !uid.is_empty()) else {
            found.note("an event without UID was left out".into());
            continue;
        };
        // A changed occurrence of a series (RECURRENCE-ID) or a second copy: the series stands.
        if component.find_prop("RECURRENCE-ID").is_some() || !seen.insert(uid.clone()) {
            continue;
        }
        match event_fields(component, reading, &mut found.problems) {
            Ok(Some(fields)) => {
                let hash = hash_of(&fields);
                found.events.push(SourceEvent { uid, fields, hash });
            }
            Ok(None) => found.past += 1,
            Err(problem) => found.note(format!("{uid}: {problem}")),
        }
    }
    found.problems.truncate(MAX_PROBLEMS);
    Ok(found)
}

/// Hash of a revision's fields, to tell whether it changed.
pub fn hash_of(fields: &EntryFields) -> String {
    let json = serde_json::to_string(fields).unwrap_or_default();
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// The source's new version over an entry edited here: the fields the
/// source changed since `old_source` take its new value, the others keep
/// what the entry holds.
pub fn merge_change(
    current: &EntryFields,
    old_source: &EntryFields,
    new_source: &EntryFields,
) -> EntryFields {
    let as_map = |fields: &EntryFields| match serde_json::to_value(fields) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(old_source), as_map(new_source));
    let mut merged = as_map(current);
    for (name, value) in new {
        if old.get(&name) != Some(&value) {
            merged.insert(name, value);
        }
    }
    serde_json::from_value(serde_json::Value::Object(merged)).unwrap_or_else(|_| new_source.clone())
}

/// The entry fields of one VEVENT, validated; `None` when it is over.
fn event_fields(
    event: &Component<'_>,
    reading: Reading,
    problems: &mut Vec<String>,
) -> Result<Option<EntryFields>, String> {
    let uid = text_of(event, "UID").unwrap_or_default();
    let start = event.find_prop("DTSTART").ok_or("it has no DTSTART")?;
    let (starts_at, zone, all_day) = instant_of(start)?;
    let ends_at = match event.find_prop("DTEND") {
        Some(end) => Some(instant_of(end)?.0),
        None => event
            .find_prop("DURATION")
            .and_then(|duration| seconds_of(duration.val.as_str()))
            .map(|seconds| starts_at + seconds)
            .or(all_day.then_some(starts_at + 86_400)),
    };
    let title = text_of(event, "SUMMARY").unwrap_or_default();
    let title = truncated(
        if title.is_empty() {
            "(untitled)"
        } else {
            &title
        },
        limits::TITLE_CHARS,
    );
    let description = text_of(event, "DESCRIPTION").unwrap_or_default();
    let mut fields = EntryFields {
        content: content_of(&description, &title, reading.content_max_chars),
        title,
        url: text_of(event, "URL")
            .filter(|url| url.starts_with("https://") || url.starts_with("http://"))
            .filter(|url| url.len() <= limits::URL_CHARS)
            .unwrap_or_default(),
        starts_at: Some(starts_at),
        ends_at: ends_at.filter(|end| *end >= starts_at),
        timezone: Some(zone.name().to_string()),
        location_name: text_of(event, "LOCATION")
            .filter(|location| !location.is_empty())
            .map(|location| truncated(&location, limits::SHORT_TEXT_CHARS)),
        event_status: Some(status_of(event).into()),
        recurrence: event
            .find_prop("RRULE")
            .map(|rule| rule.val.as_str().to_string()),
        exdates: exdates_of(event, zone),
        ..EntryFields::default()
    };
    if let Err(errors) = validate(reading.kind, &mut fields.clone(), reading.content_max_chars) {
        if fields.recurrence.is_some()
            && errors
                .iter()
                .any(|e| matches!(e.field.as_str(), "recurrence" | "exdates"))
        {
            problems.push(format!(
                "{uid}: its repeat rule is not supported ({}), so only its first occurrence is kept",
                fields.recurrence.as_deref().unwrap_or_default()
            ));
            fields.recurrence = None;
            fields.exdates.clear();
        }
    }
    validate(reading.kind, &mut fields, reading.content_max_chars).map_err(|errors| {
        errors
            .iter()
            .map(|error| format!("{} {}", error.field, error.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let over = event_end(&fields, reading.event_default_secs).is_some_and(|end| end <= reading.now);
    Ok((!over).then_some(fields))
}

/// `CANCELLED` and `TENTATIVE` as event statuses; anything else is confirmed.
fn status_of(event: &Component<'_>) -> &'static str {
    match text_of(event, "STATUS")
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("CANCELLED") => "cancelled",
        Some("TENTATIVE") => "tentative",
        _ => "confirmed",
    }
}

/// A property's text value, unescaped (RFC 5545 3.3.11) and trimmed.
fn text_of(component: &Component<'_>, name: &str) -> Option<String> {
    let value = component.find_prop(name)?.val.as_str();
    let mut text = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(character) = chars.next() {
        if character == '\\' {
            match chars.next() {
                Some('n' | 'N') => text.push('\n'),
                Some(other) => text.push(other),
                None => {}
            }
        } else {
            text.push(character);
        }
    }
    Some(text.replace("\r\n", "\n").trim().to_string())
}

/// At most `max` characters, with an ellipsis when cut.
fn truncated(text: &str, max: usize) -> String {
    let single_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if single_line.chars().count() <= max {
        return single_line;
    }
    let mut cut: String = single_line.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// The description as the entries' HTML: escaped, paragraphs and line breaks
/// kept, cut to the plain-text limit; the title when there is none.
fn content_of(description: &str, title: &str, max_chars: usize) -> String {
    let text = if description.is_empty() {
        title
    } else {
        description
    };
    let mut text: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    if text.chars().count() > max_chars {
        text = text.chars().take(max_chars.saturating_sub(1)).collect();
        text.push('…');
    }
    text.split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .map(|paragraph| {
            let lines: Vec<String> = paragraph.lines().map(sanitize::escape_html).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect()
}

/// The zone a TZID names: an IANA name, also at the end of a path such as
/// Thunderbird's `/mozilla.org/20050126_1/Europe/Berlin`.
fn zone_named(tzid: &str) -> Option<Tz> {
    let tzid = tzid.trim_matches('"');
    tzid.parse::<Tz>().ok().or_else(|| {
        tzid.match_indices('/')
            .find_map(|(at, _)| tzid[at + 1..].parse::<Tz>().ok())
    })
}

/// A DATE or DATE-TIME property: the instant, its zone, and whether it is a
/// whole day (taken in UTC, as a floating time is).
fn instant_of(property: &Property<'_>) -> Result<(i64, Tz, bool), String> {
    let value = property.val.as_str().trim();
    let name = property.name.as_str();
    let tzid = property
        .params
        .iter()
        .find(|param| param.key == "TZID")
        .and_then(|param| param.val.as_ref())
        .map(|val| val.as_str().to_string());
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y%m%d") {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        return Ok((Utc.from_utc_datetime(&midnight).timestamp(), Tz::UTC, true));
    }
    if let Some(utc) = value.strip_suffix('Z') {
        let at = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
            .map_err(|_| format!("{name} {value:.40} is not a date-time"))?;
        let zone = tzid.as_deref().and_then(zone_named).unwrap_or(Tz::UTC);
        return Ok((Utc.from_utc_datetime(&at).timestamp(), zone, false));
    }
    let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
        .map_err(|_| format!("{name} {value:.40} is not a date-time"))?;
    let zone = match tzid.as_deref() {
        None => Tz::UTC,
        Some(tzid) => {
            zone_named(tzid).ok_or_else(|| format!("{name} has an unknown time zone {tzid:.60}"))?
        }
    };
    let at = zone
        .from_local_datetime(&local)
        .earliest()
        .ok_or_else(|| format!("{name} {value} does not exist in {}", zone.name()))?;
    Ok((at.timestamp(), zone, false))
}

/// Seconds of a DURATION such as `PT1H30M`, `P1D` or `P2W`.
fn seconds_of(duration: &str) -> Option<i64> {
    let rest = duration.trim().strip_prefix('P')?;
    let (mut total, mut number) = (0_i64, 0_i64);
    for character in rest.chars() {
        match character {
            '0'..='9' => number = number * 10 + i64::from(character.to_digit(10)?),
            'T' => {}
            unit => {
                let factor = match unit {
                    'W' => 7 * 86_400,
                    'D' => 86_400,
                    'H' => 3600,
                    'M' => 60,
                    'S' => 1,
                    _ => return None,
                };
                total += number * factor;
                number = 0;
            }
        }
    }
    Some(total)
}

/// EXDATE values (several properties, comma lists) as local names in `zone`.
fn exdates_of(event: &Component<'_>, zone: Tz) -> Vec<String> {
    let mut names = Vec::new();
    for property in event.properties.iter().filter(|p| p.name == "EXDATE") {
        for value in property.val.as_str().split(',') {
            let single = Property {
                name: property.name.clone(),
                val: value.into(),
                params: property.params.clone(),
            };
            if let Ok((instant, _, _)) = instant_of(&single) {
                names.push(local_name(instant, zone));
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000; // 2027-01-15

    fn reading() -> Reading {
        Reading {
            kind: EntryKind::Event,
            content_max_chars: 500,
            now: NOW,
            event_default_secs: 7200,
        }
    }

    fn calendar(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n")
    }

    #[test]
    fn an_event_in_a_named_zone_becomes_entry_fields() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:a@example\r\nSUMMARY:QGIS\\, the meetup\r\n\
             DESCRIPTION:First line\\nsecond <b>line</b>\\n\\nNew paragraph\r\n\
             DTSTART;TZID=Europe/Berlin:20270318T183000\r\n\
             DTEND;TZID=Europe/Berlin:20270318T203000\r\n\
             LOCATION:Bern\\, Switzerland\r\nURL:https://example.org/m\r\nEND:VEVENT\r\n",
        );
        let found = read(&text, reading()).unwrap();
        assert_eq!(found.problems, Vec::<String>::new());
        let event = &found.events[0];
        assert_eq!(event.uid, "a@example");
        assert_eq!(event.fields.title, "QGIS, the meetup");
        assert_eq!(
            event.fields.content,
            "<p>First line<br>second &lt;b&gt;line&lt;/b&gt;</p><p>New paragraph</p>"
        );
        assert_eq!(event.fields.timezone.as_deref(), Some("Europe/Berlin"));
        // 18:30 CET is 17:30 UTC.
        assert_eq!(event.fields.starts_at, Some(1_805_391_000));
        assert_eq!(event.fields.ends_at, Some(1_805_398_200));
        assert_eq!(
            event.fields.location_name.as_deref(),
            Some("Bern, Switzerland")
        );
        assert_eq!(event.fields.url, "https://example.org/m");
        assert_eq!(event.fields.event_status.as_deref(), Some("confirmed"));
    }

    #[test]
    fn utc_and_all_day_events_are_taken_in_utc() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:u\r\nSUMMARY:U\r\nDTSTART:20270318T183000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:d\r\nSUMMARY:D\r\nDTSTART;VALUE=DATE:20270320\r\nEND:VEVENT\r\n",
        );
        let found = read(&text, reading()).unwrap();
        let utc = &found.events[0].fields;
        assert_eq!(utc.timezone.as_deref(), Some("UTC"));
        assert_eq!(utc.ends_at.unwrap() - utc.starts_at.unwrap(), 3600);
        let day = &found.events[1].fields;
        assert_eq!(day.starts_at, Some(1_805_500_800));
        assert_eq!(day.ends_at, Some(1_805_587_200));
    }

    #[test]
    fn a_supported_rule_stays_a_series_with_its_exceptions() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:s\r\nSUMMARY:S\r\n\
             DTSTART;TZID=/mozilla.org/20050126_1/Europe/Zurich:20270318T183000\r\n\
             RRULE:FREQ=MONTHLY;BYDAY=3TH;COUNT=6\r\n\
             EXDATE;TZID=Europe/Zurich:20270415T183000\r\nEND:VEVENT\r\n",
        );
        let found = read(&text, reading()).unwrap();
        let fields = &found.events[0].fields;
        assert_eq!(fields.timezone.as_deref(), Some("Europe/Zurich"));
        assert!(
            fields
                .recurrence
                .as_deref()
                .unwrap()
                .contains("FREQ=MONTHLY")
        );
        assert_eq!(fields.exdates, vec!["2027-04-15T18:30".to_string()]);
    }

    #[test]
    fn an_unsupported_rule_keeps_the_first_occurrence_and_says_so() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:daily\r\nSUMMARY:Daily\r\nDTSTART:20270318T183000Z\r\n\
             RRULE:FREQ=DAILY\r\nEND:VEVENT\r\n",
        );
        let found = read(&text, reading()).unwrap();
        assert_eq!(found.events[0].fields.recurrence, None);
        assert!(
            found.problems[0].starts_with("daily: its repeat rule"),
            "{:?}",
            found.problems
        );
    }

    #[test]
    fn cancelled_past_duplicate_and_broken_events() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:C\r\nSTATUS:CANCELLED\r\nDTSTART:20270318T183000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Copy\r\nDTSTART:20270318T183000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:old\r\nSUMMARY:Old\r\nDTSTART:20070318T183000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:bad\r\nSUMMARY:Bad\r\nDTSTART:tomorrow\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nSUMMARY:No UID\r\nDTSTART:20270318T183000Z\r\nEND:VEVENT\r\n",
        );
        let found = read(&text, reading()).unwrap();
        assert_eq!(found.events.len(), 1);
        assert_eq!(
            found.events[0].fields.event_status.as_deref(),
            Some("cancelled")
        );
        assert_eq!(found.past, 1);
        assert_eq!(found.problems.len(), 2, "{:?}", found.problems);
    }

    #[test]
    fn an_edit_here_keeps_what_the_source_did_not_change() {
        let source = |title: &str, place: &str| EntryFields {
            title: title.into(),
            location_name: Some(place.into()),
            ..EntryFields::default()
        };
        let old = source("Meetup", "Bern");
        let ours = EntryFields {
            content: "<p>Our words</p>".into(),
            ..source("Our meetup", "Bern")
        };
        let merged = merge_change(&ours, &old, &source("Meetup", "Zürich"));
        assert_eq!(merged.title, "Our meetup");
        assert_eq!(merged.content, "<p>Our words</p>");
        assert_eq!(merged.location_name.as_deref(), Some("Zürich"));
    }

    #[test]
    fn what_is_not_a_calendar_is_refused() {
        assert!(read("<html>hello</html>", reading()).is_err());
        assert!(read("", reading()).is_err());
        assert!(read("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", reading()).is_err());
    }

    #[test]
    fn the_hash_follows_the_fields() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:h\r\nSUMMARY:A\r\nDTSTART:20270318T183000Z\r\nEND:VEVENT\r\n",
        );
        let first = read(&text, reading()).unwrap().events[0].hash.clone();
        let changed = read(&text.replace("SUMMARY:A", "SUMMARY:B"), reading()).unwrap();
        assert_ne!(first, changed.events[0].hash);
        assert_eq!(first, read(&text, reading()).unwrap().events[0].hash);
    }
}
