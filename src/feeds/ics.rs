//! iCalendar (RFC 5545) writing: every TEXT value escaped (backslash, `;`,
//! `,`, newlines), no control character in any value whatever field it came
//! from, lines folded at 75 octets. (The `icalendar` crate escapes only the
//! properties it knows as TEXT, and passes CR through, which let a group
//! name inject events; so this writer is ours.)

use std::fmt::Write as _;

/// Longest content line before folding, in octets (RFC 5545 3.1).
const LINE_OCTETS: usize = 75;

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
        let stamp = chrono::DateTime::from_timestamp(seconds, 0)
            .unwrap_or_default()
            .format("%Y%m%dT%H%M%SZ")
            .to_string();
        self.line(name, &stamp)
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
