//! iCalendar (RFC 5545) writing: every TEXT value escaped (backslash, `;`,
//! `,`, newlines), no control character in any value whatever field it came
//! from, lines folded at 75 octets. (The `icalendar` crate escapes only the
//! properties it knows as TEXT, and passes CR through, which let a group
//! name inject events; so this writer is ours.)

use std::fmt::Write as _;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// Longest content line before folding, in octets (RFC 5545 3.1).
const LINE_OCTETS: usize = 75;
/// Local DATE-TIME form (RFC 5545 3.3.5, form 3 with a TZID).
const LOCAL_FORMAT: &str = "%Y%m%dT%H%M%S";
/// Steps of the search for offset changes: no zone changes twice within one.
const TRANSITION_STEP_SECS: i64 = 86_400;

/// A calendar being written.
#[derive(Default)]
pub struct Ics {
    out: String,
}

impl Ics {
    pub fn new() -> Self {
        Self::default()
    }

    /// `BEGIN:`/`END:` lines and values of types that need no escaping (dates,
    /// UIDs, URIs, GEO, STATUS); control characters are still dropped.
    pub fn raw(&mut self, name: &str, value: &str) -> &mut Self {
        let value: String = value.chars().filter(|c| !c.is_control()).collect();
        self.line(name, &value)
    }

    /// A TEXT value, escaped.
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        let mut escaped = String::with_capacity(value.len());
        for character in value.chars() {
            match character {
                '\\' => escaped.push_str("\\\\"),
                ';' => escaped.push_str("\\;"),
                ',' => escaped.push_str("\\,"),
                '\n' => escaped.push_str("\\n"),
                other if other.is_control() => {}
                other => escaped.push(other),
            }
        }
        self.line(name, &escaped)
    }

    /// A UTC date-time value from unix seconds.
    pub fn instant(&mut self, name: &str, seconds: i64) -> &mut Self {
        let stamp = utc(seconds).format("%Y%m%dT%H%M%SZ").to_string();
        self.line(name, &stamp)
    }

    /// A date-time as the clock reads it in `zone` (`NAME;TZID=Europe/Zurich:
    /// 20270121T183000`), whose VTIMEZONE the calendar must carry; in UTC
    /// without a zone.
    pub fn zoned(&mut self, name: &str, seconds: i64, zone: Option<Tz>) -> &mut Self {
        match zone {
            // Zone names are chrono-tz's own: letters, digits, `/`, `_`, `-`, `+`.
            Some(zone) => {
                let local = utc(seconds).with_timezone(&zone).format(LOCAL_FORMAT);
                self.line(&format!("{name};TZID={}", zone.name()), &local.to_string())
            }
            None => self.instant(name, seconds),
        }
    }

    /// The VTIMEZONE of `zone` for times from `from` to `until`: the offset in
    /// effect at `from`, then one observance per change of offset up to `until`.
    pub fn vtimezone(&mut self, zone: Tz, from: i64, until: i64) -> &mut Self {
        let first = Observance::at(zone, from);
        self.raw("BEGIN", "VTIMEZONE").raw("TZID", zone.name());
        self.observance(&first, &first, from);
        let mut before = first;
        for (at, after) in transitions(zone, from, until) {
            self.observance(&before, &after, at);
            before = after;
        }
        self.raw("END", "VTIMEZONE")
    }

    /// A STANDARD or DAYLIGHT sub-component: `after` in effect from `at`, as
    /// the clock read it under `before`.
    fn observance(&mut self, before: &Observance, after: &Observance, at: i64) -> &mut Self {
        let kind = if after.daylight {
            "DAYLIGHT"
        } else {
            "STANDARD"
        };
        let local = utc(at + i64::from(before.offset)).naive_utc();
        self.raw("BEGIN", kind)
            .raw("DTSTART", &local.format(LOCAL_FORMAT).to_string())
            .raw("TZOFFSETFROM", &utc_offset(before.offset))
            .raw("TZOFFSETTO", &utc_offset(after.offset));
        if !after.name.is_empty() {
            self.text("TZNAME", &after.name);
        }
        self.raw("END", kind)
    }

    fn line(&mut self, name: &str, value: &str) -> &mut Self {
        let line = format!("{name}:{value}");
        let mut octets = 0;
        for character in line.chars() {
            let width = character.len_utf8();
            if octets + width > LINE_OCTETS {
                // A fold is CRLF and one space; the space counts on the next line.
                self.out.push_str("\r\n ");
                octets = 1;
            }
            self.out.push(character);
            octets += width;
        }
        self.out.push_str("\r\n");
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn utc(seconds: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

/// The offset a zone is on at some instant.
#[derive(Clone, Debug, PartialEq)]
struct Observance {
    /// Seconds east of UTC.
    offset: i32,
    daylight: bool,
    /// Abbreviation (`CET`, `-03`), or empty.
    name: String,
}

impl Observance {
    fn at(zone: Tz, seconds: i64) -> Self {
        let offset = zone.offset_from_utc_datetime(&utc(seconds).naive_utc());
        Self {
            offset: offset.fix().local_minus_utc(),
            daylight: !offset.dst_offset().is_zero(),
            name: offset.abbreviation().unwrap_or_default().to_string(),
        }
    }
}

/// Each change of `zone`'s offset in `(from, until]`: its instant and the
/// offset from then on. chrono-tz does not list transitions, so the span is
/// walked a day at a time and each change found to the second by bisection.
fn transitions(zone: Tz, from: i64, until: i64) -> Vec<(i64, Observance)> {
    let mut found = Vec::new();
    let mut at = from;
    let mut current = Observance::at(zone, at);
    while at < until {
        let step_end = (at + TRANSITION_STEP_SECS).min(until);
        let next = Observance::at(zone, step_end);
        if next != current {
            // Invariant: `current` holds at `low`, `next` at `high`.
            let (mut low, mut high) = (at, step_end);
            while high - low > 1 {
                let middle = low + (high - low) / 2;
                if Observance::at(zone, middle) == current {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            found.push((high, next.clone()));
            current = next;
        }
        at = step_end;
    }
    found
}

/// A UTC-OFFSET value: `+0100`, `-0300` (seconds only when there are some).
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.unsigned_abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if rest == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{rest:02}")
    }
}

/// `GEO` value: latitude and longitude.
pub fn geo(latitude: f64, longitude: f64) -> String {
    let mut value = String::new();
    let _ = write!(value, "{latitude};{longitude}");
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_controls_dropped() {
        let mut ics = Ics::new();
        ics.text("NAME", "Evil\r\nBEGIN:VEVENT\\x;y,z\u{7}");
        assert_eq!(ics.finish(), "NAME:Evil\\nBEGIN:VEVENT\\\\x\\;y\\,z\r\n");
        let mut ics = Ics::new();
        ics.raw("URL", "https://x.org/\r\nBEGIN:VEVENT");
        assert_eq!(ics.finish(), "URL:https://x.org/BEGIN:VEVENT\r\n");
    }

    #[test]
    fn zurich_in_2027_has_its_two_changes() {
        let zone: Tz = "Europe/Zurich".parse().unwrap();
        let from = utc_seconds("2027-01-01T00:00:00Z");
        let until = utc_seconds("2027-12-31T00:00:00Z");
        let mut ics = Ics::new();
        ics.vtimezone(zone, from, until).zoned(
            "DTSTART",
            utc_seconds("2027-07-01T16:30:00Z"),
            Some(zone),
        );
        assert_eq!(
            ics.finish(),
            "BEGIN:VTIMEZONE\r\nTZID:Europe/Zurich\r\n\
             BEGIN:STANDARD\r\nDTSTART:20270101T010000\r\nTZOFFSETFROM:+0100\r\n\
             TZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n\
             BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\n\
             TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n\
             BEGIN:STANDARD\r\nDTSTART:20271031T030000\r\nTZOFFSETFROM:+0200\r\n\
             TZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n\
             END:VTIMEZONE\r\nDTSTART;TZID=Europe/Zurich:20270701T183000\r\n"
        );
    }

    #[test]
    fn offsets_are_signed_hours_and_minutes() {
        assert_eq!(utc_offset(-3 * 3600), "-0300");
        assert_eq!(utc_offset(5 * 3600 + 1800), "+0530");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(-(3600 + 15 * 60 + 8)), "-011508");
    }

    fn utc_seconds(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp()
    }

    #[test]
    fn long_lines_fold_without_splitting_characters() {
        let mut ics = Ics::new();
        ics.text("SUMMARY", &"ä".repeat(60));
        let out = ics.finish();
        for line in out.split("\r\n").filter(|line| !line.is_empty()) {
            assert!(line.len() <= LINE_OCTETS, "{} octets: {line}", line.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "ä".repeat(60)));
    }
}
