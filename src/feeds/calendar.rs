//! Calendars (RFC 5545) of events and meetups, for subscriptions (site and
//! group) and for one entry's download: times in the venue's zone with its
//! VTIMEZONE, a series as one VEVENT with its rule, cancelled occurrences
//! as EXDATE and each moved one as a VEVENT of its own (RECURRENCE-ID).

use std::collections::BTreeMap;

use chrono_tz::Tz;

use super::ics::{Ics, geo};
use super::{FeedFormat, FeedHub, Item, Rendered, Settings};
use crate::domain::EventStatus;
use crate::domain::recurrence::{parse_local, rule_starts};
use crate::domain::sanitize::plain_text;
use crate::domain::schedule::{self, Occurrence, zone_of};

/// A calendar named `name` holding `items` (events and meetups).
pub fn calendar<'a>(
    name: &str,
    items: impl Iterator<Item = &'a Item>,
    settings: &Settings,
) -> String {
    let events: Vec<Event<'_>> = items.map(|item| Event::of(item, settings)).collect();
    let mut ics = Ics::new();
    ics.raw("BEGIN", "VCALENDAR")
        .raw("VERSION", "2.0")
        .raw("PRODID", "-//newsfeed//feeds//EN")
        .raw("CALSCALE", "GREGORIAN")
        .text("NAME", name)
        .text("X-WR-CALNAME", name);
    // One VTIMEZONE per zone, covering every time written in it.
    let mut spans: BTreeMap<&str, (Tz, i64, i64)> = BTreeMap::new();
    for event in &events {
        if let Some(zone) = event.zone {
            let (from, until) = event.span();
            let span = spans.entry(zone.name()).or_insert((zone, from, until));
            span.1 = span.1.min(from);
            span.2 = span.2.max(until);
        }
    }
    for (zone, from, until) in spans.into_values() {
        ics.vtimezone(zone, from, until);
    }
    for event in &events {
        event.write(&mut ics, &settings.host);
    }
    ics.raw("END", "VCALENDAR");
    ics.finish()
}

/// `/entries/{id}.ics`: the calendar of one published event or meetup, for
/// as long as the calendars carry it. Rendered for each request (it is
/// small), so that entries do not crowd the feeds out of the snapshot's cache.
pub(super) fn entry_calendar(hub: &FeedHub, id: i64) -> Option<Rendered> {
    let snapshot = hub.snapshot.load();
    let now = snapshot.built_at;
    let item = snapshot
        .items
        .iter()
        .find(|item| item.id == id && item.in_feed && item.in_calendar(now))?;
    let body = calendar(&item.headline, std::iter::once(item), &hub.settings);
    let modified_at = item.last_change(now).unwrap_or(item.changed_at);
    Some(Rendered::new(
        body,
        FeedFormat::Ics.content_type(),
        modified_at,
    ))
}

/// One entry as the calendar gives it.
struct Event<'a> {
    item: &'a Item,
    /// The zone its times are written in; `None`: UTC.
    zone: Option<Tz>,
    /// The rule of a series.
    rule: Option<&'a String>,
    /// Length of each occurrence.
    length: i64,
    /// The cancelled occurrences of a series, as instants.
    exdates: Vec<i64>,
}

/// Which VEVENT of an entry: the entry itself (with the rule of a series),
/// or one moved occurrence of the series.
enum Instance<'a> {
    Entry,
    Moved(&'a Occurrence),
}

impl<'a> Event<'a> {
    fn of(item: &'a Item, settings: &Settings) -> Self {
        let fields = &item.fields;
        let venue = zone_of(fields);
        // UTC is written as UTC (`Z`), without a VTIMEZONE.
        let zone = venue.filter(|zone| !is_utc(*zone));
        // Occurrences are named in the venue's zone, as `schedule` does.
        let naming = venue.unwrap_or(Tz::UTC);
        // A stored rule that no longer expands made one event (see
        // `schedule::occurrences`): it is not handed to calendar apps either.
        let rule = fields.recurrence.as_ref().filter(|rule| {
            fields
                .starts_at
                .is_some_and(|starts| rule_starts(rule, starts, naming).is_ok())
        });
        let exdates = match rule {
            Some(_) => fields
                .exdates
                .iter()
                .filter_map(|local| parse_local(local, naming))
                .collect(),
            None => Vec::new(),
        };
        Self {
            item,
            zone,
            rule,
            length: schedule::length(fields, settings.event_default_secs),
            exdates,
        }
    }

    /// The first and last instants written in the event's zone.
    fn span(&self) -> (i64, i64) {
        let starts = self.item.fields.starts_at.into_iter();
        let from = starts
            .clone()
            .chain(self.exdates.iter().copied())
            .chain(self.item.occurrences.iter().map(|o| o.starts_at))
            .min()
            .unwrap_or_default();
        let until = starts
            .chain(self.exdates.iter().copied())
            .map(|start| start + self.length)
            .chain(self.item.occurrences.iter().map(|o| o.ends_at))
            .max()
            .unwrap_or(from);
        (from, until)
    }

    fn write(&self, ics: &mut Ics, host: &str) {
        let Some(starts) = self.item.fields.starts_at else {
            return;
        };
        self.vevent(ics, host, starts, Instance::Entry);
        for moved in self.item.occurrences.iter().filter(|o| o.moved) {
            self.vevent(ics, host, starts, Instance::Moved(moved));
        }
    }

    fn vevent(&self, ics: &mut Ics, host: &str, starts: i64, instance: Instance<'_>) {
        let item = self.item;
        let fields = &item.fields;
        // Calendar apps take an entry's changes only with a higher SEQUENCE
        // (every approval, change without review and retraction raises it).
        ics.raw("BEGIN", "VEVENT")
            .raw("UID", &format!("entry-{}@{host}", item.id))
            .raw("SEQUENCE", &item.sequence.to_string())
            .instant("DTSTAMP", item.changed_at)
            .instant("LAST-MODIFIED", item.changed_at);
        match instance {
            Instance::Entry => {
                ics.zoned("DTSTART", starts, self.zone).zoned(
                    "DTEND",
                    starts + self.length,
                    self.zone,
                );
                if let Some(rule) = self.rule {
                    ics.raw("RRULE", rule);
                    for exdate in &self.exdates {
                        ics.zoned("EXDATE", *exdate, self.zone);
                    }
                }
            }
            Instance::Moved(occurrence) => {
                let naming = zone_of(fields).unwrap_or(Tz::UTC);
                if let Some(original) = parse_local(&occurrence.original, naming) {
                    ics.zoned("RECURRENCE-ID", original, self.zone);
                }
                ics.zoned("DTSTART", occurrence.starts_at, self.zone).zoned(
                    "DTEND",
                    occurrence.ends_at,
                    self.zone,
                );
            }
        }
        write_texts(ics, item);
        ics.raw("URL", &item.link).raw("STATUS", status(item));
        let online_url = item.online_url();
        if let Some(place) = fields.location_name.as_deref().or(online_url) {
            ics.text("LOCATION", place);
        }
        if let (Some(lat), Some(lon)) = (fields.latitude, fields.longitude) {
            ics.raw("GEO", &geo(lat, lon));
        }
        if let Some(url) = online_url {
            // RFC 7986: how to join; calendar apps offer it as a "join" button.
            ics.raw("CONFERENCE;VALUE=URI;FEATURE=VIDEO", url);
        }
        ics.raw("END", "VEVENT");
    }
}

/// `SUMMARY` and `DESCRIPTION` in the main language (`LANGUAGE` says which
/// when it is known), then those of each translation with its `LANGUAGE`
/// (RFC 5545 3.2.10), for calendar apps that pick by the reader's language.
fn write_texts(ics: &mut Ics, item: &Item) {
    let fields = &item.fields;
    // One SUMMARY, in the main language (RFC 5545 allows one; calendars
    // show the last of several); each translation is a DESCRIPTION in its
    // language, its title first, as the readers asked.
    let description = |language: Option<&str>| match language {
        Some(language) => format!("DESCRIPTION;LANGUAGE={language}"),
        None => "DESCRIPTION".to_string(),
    };
    // Said only when there are others to tell it from.
    let main = fields
        .language
        .as_deref()
        .filter(|_| !item.translations.is_empty());
    ics.text(
        &main.map_or_else(
            || "SUMMARY".to_string(),
            |language| format!("SUMMARY;LANGUAGE={language}"),
        ),
        &item.headline,
    )
    .text(&description(main), &plain_text(&fields.content));
    for localized in &item.translations {
        let content = fields
            .in_language(&localized.language)
            .map(|texts| texts.content)
            .unwrap_or_default();
        let text = format!("{}\n\n{}", localized.headline, plain_text(&content));
        ics.text(&description(Some(&localized.language)), &text);
    }
}

/// `STATUS`: RFC 5545 has no "postponed"; a postponed event will take place,
/// but not when it says, which is what TENTATIVE tells a calendar. A
/// retracted entry is cancelled as far as a calendar knows.
fn status(item: &Item) -> &'static str {
    if !item.in_feed {
        return "CANCELLED";
    }
    match item.event_status {
        Some(EventStatus::Cancelled) => "CANCELLED",
        Some(EventStatus::Tentative | EventStatus::Postponed) => "TENTATIVE",
        Some(EventStatus::Confirmed) | None => "CONFIRMED",
    }
}

/// The names of UTC in the time zone database.
fn is_utc(zone: Tz) -> bool {
    matches!(
        zone,
        Tz::UTC
            | Tz::Etc__UTC
            | Tz::UCT
            | Tz::Etc__UCT
            | Tz::Universal
            | Tz::Etc__Universal
            | Tz::Zulu
            | Tz::Etc__Zulu
    )
}
