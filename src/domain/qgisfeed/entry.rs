//! A `qgisfeed.qgisfeedentry` as an entry of ours. QGIS-Feed's model holds
//! rows our rules refuse (no constraint between the dates, any status or
//! language string, empty titles, any URL). Each such row is imported in a
//! state that says what it is: a row that could never be live is not live
//! here, a live one stays live only where nothing widens its audience, and
//! every difference becomes a note for the report.

use serde::Deserialize;

use super::{RawUserRef, UserRef, ewkt, parse_dump_instant, user_ref};
use crate::domain::entry::{EntryFields, validate};
use crate::domain::validate::{is_bidi_control, is_web_url, quoted};
use crate::domain::{EntryKind, EntryStatus, codes, limits, sanitize};

/// A `qgisfeed.qgisfeedentry`, mapped onto an entry of ours.
#[derive(Clone, Debug, PartialEq)]
pub struct DumpEntry {
    pub pk: i64,
    pub author: UserRef,
    pub status: EntryStatus,
    pub sticky: bool,
    pub priority: i32,
    pub created: i64,
    pub modified: i64,
    /// Path of the picture under the QGIS-Feed media directory, if any.
    pub image_path: Option<String>,
    /// Validated; `image` is empty (the service sets the stored picture).
    pub fields: EntryFields,
    /// Why the row is not imported exactly as QGIS-Feed holds it.
    pub notes: Vec<String>,
}

#[derive(Deserialize)]
pub(super) struct RawEntry {
    title: String,
    #[serde(default)]
    image: Option<String>,
    content: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    action_text: Option<String>,
    author: RawUserRef,
    created: Option<String>,
    modified: Option<String>,
    /// Absent in dumps older than the review workflow: then `published` decides.
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    published: bool,
    #[serde(default)]
    sticky: bool,
    #[serde(default)]
    sorting: i64,
    #[serde(default)]
    language_filter: Option<String>,
    #[serde(default)]
    spatial_filter: Option<String>,
    #[serde(default)]
    publish_from: Option<String>,
    #[serde(default)]
    publish_to: Option<String>,
}

/// Where a row ends up, and why it differs from QGIS-Feed's.
struct Verdict {
    status: EntryStatus,
    /// Could never be live as stored here: a draft.
    draft: bool,
    /// Its window is over: unpublished if it was published.
    expired: bool,
    notes: Vec<String>,
}

impl Verdict {
    fn note(&mut self, reason: impl Into<String>) {
        self.notes.push(reason.into());
    }

    fn draft(&mut self, reason: impl Into<String>) {
        self.draft = true;
        self.note(reason);
    }

    fn expire(&mut self, reason: impl Into<String>) {
        self.expired = true;
        self.note(reason);
    }

    /// A rejected row stays rejected; a draft is never live; an expired row
    /// is out of the feeds.
    fn status(&self) -> EntryStatus {
        match self.status {
            EntryStatus::Rejected => EntryStatus::Rejected,
            _ if self.draft => EntryStatus::Draft,
            EntryStatus::Approved if self.expired => EntryStatus::Unpublished,
            status => status,
        }
    }
}

/// Our life cycle status for a QGIS-Feed entry, and why it differs from
/// `status` if it does. `published` is what its feed reads, so it alone
/// decides what is live; `status` says where the others stand. QGIS-Feed's
/// `approved` still waits for someone to publish it.
pub fn life_cycle(status: Option<&str>, published: bool) -> (EntryStatus, Option<String>) {
    match (published, status) {
        (true, None | Some("published")) => (EntryStatus::Approved, None),
        (true, Some(other)) => (
            EntryStatus::Approved,
            Some(format!(
                "status {other:?} with published=true: published decides, as in QGIS-Feed's feed"
            )),
        ),
        (false, None | Some("draft")) => (EntryStatus::Draft, None),
        (false, Some("pending_review" | "approved")) => (EntryStatus::Pending, None),
        (false, Some("changes_requested")) => (EntryStatus::ChangesRequested, None),
        (false, Some("rejected")) => (EntryStatus::Rejected, None),
        // Published once, not any more.
        (false, Some("published")) => (EntryStatus::Unpublished, None),
        (false, Some(other)) => (
            EntryStatus::Draft,
            Some(format!("status {other:?} is unknown")),
        ),
    }
}

pub(super) fn entry(pk: i64, raw: RawEntry) -> Result<DumpEntry, String> {
    let (status, status_note) = life_cycle(raw.status.as_deref(), raw.published);
    let mut verdict = Verdict {
        status,
        draft: false,
        expired: false,
        notes: status_note.into_iter().collect(),
    };
    let created = instant("created", raw.created.as_deref())?;
    let modified = instant("modified", raw.modified.as_deref())?.or(created);
    let (publish_from, publish_to) = window(&raw, &mut verdict)?;
    let mut fields = EntryFields {
        title: title(pk, &raw.title, &mut verdict),
        content: content(pk, &raw.content, &mut verdict),
        url: url(raw.url.as_deref(), &mut verdict),
        language: language(raw.language_filter.as_deref(), &mut verdict),
        target_area: area(raw.spatial_filter.as_deref(), &mut verdict),
        call_to_action: call_to_action(raw.action_text.as_deref(), &mut verdict),
        publish_from,
        publish_to,
        ..EntryFields::default()
    };
    // QGIS-Feed's operators may have raised its content limit: imported
    // text is not cut or refused for its length. What is left to refuse
    // (a title over 255 characters) is more than its model can hold.
    validate(EntryKind::Announcement, &mut fields, usize::MAX).map_err(|errors| {
        errors
            .iter()
            .map(|error| format!("{}: {}", qgis_field(&error.field), error.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let priority = i32::try_from(raw.sorting).unwrap_or_else(|_| {
        verdict.note(format!(
            "sorting {} is out of range: stored as 0",
            raw.sorting
        ));
        0
    });
    let created = created.or(modified).unwrap_or(0);
    Ok(DumpEntry {
        pk,
        author: user_ref(raw.author).map_err(|reason| format!("author: {reason}"))?,
        status: verdict.status(),
        sticky: raw.sticky,
        priority,
        created,
        modified: modified.unwrap_or(created),
        image_path: raw.image.filter(|path| !path.trim().is_empty()),
        fields,
        notes: verdict.notes,
    })
}

fn instant(field: &str, value: Option<&str>) -> Result<Option<i64>, String> {
    value
        .filter(|text| !text.trim().is_empty())
        .map(|text| parse_dump_instant(text).map_err(|reason| format!("{field}: {reason}")))
        .transpose()
}

/// `publish_from` and `publish_to` as our rules can hold them: within
/// 1970..2100 and the end after the start.
fn window(raw: &RawEntry, verdict: &mut Verdict) -> Result<(Option<i64>, Option<i64>), String> {
    let mut from = instant("publish_from", raw.publish_from.as_deref())?;
    let mut to = instant("publish_to", raw.publish_to.as_deref())?;
    let (from_text, to_text) = (
        raw.publish_from.as_deref().unwrap_or_default(),
        raw.publish_to.as_deref().unwrap_or_default(),
    );
    if from.is_none() && to.is_none() && verdict.status == EntryStatus::Approved {
        verdict.note("no dates: live with no end, as in QGIS-Feed");
    }
    match from {
        Some(start) if start >= limits::MAX_INSTANT => {
            verdict.draft(format!(
                "publish_from {from_text} is after 2100: it would never start; not kept"
            ));
            from = None;
        }
        Some(start) if start < 0 => {
            verdict.note(format!(
                "publish_from {from_text} is before 1970: stored as 1970-01-01"
            ));
            from = Some(0);
        }
        _ => {}
    }
    match to {
        // A far-future end (QGIS 3.22 reads it as uint32) means no end.
        Some(end) if end >= limits::MAX_INSTANT => {
            verdict.note(format!(
                "publish_to {to_text} is after 2100: stored as no end"
            ));
            to = None;
        }
        Some(end) if end < 0 => {
            verdict.expire(format!(
                "publish_to {to_text} is before 1970: expired; not kept"
            ));
            to = None;
        }
        _ => {}
    }
    if let (Some(start), Some(end)) = (from, to) {
        if end <= start {
            verdict.expire(format!(
                "its window closed before it opened (publish_from {from_text}, publish_to {to_text}): expired; publish_from not kept"
            ));
            from = None;
        }
    }
    Ok((from, to))
}

/// The title without control or direction characters; an empty one becomes
/// a placeholder on a draft.
fn title(pk: i64, raw: &str, verdict: &mut Verdict) -> String {
    let cleaned = one_line(raw);
    if cleaned.is_empty() {
        verdict.draft("the title is empty: titled \"Untitled (QGIS-Feed pk N)\"");
        return format!("Untitled (QGIS-Feed pk {pk})");
    }
    if cleaned != raw.trim() {
        verdict.note("the title had line breaks, control or direction characters: removed");
    }
    cleaned
}

/// `text` trimmed, its control characters as spaces, its direction overrides dropped.
fn one_line(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// The content sanitized; one with no text left is a placeholder on a draft.
fn content(pk: i64, raw: &str, verdict: &mut Verdict) -> String {
    let kept: String = raw
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect();
    if kept != raw {
        verdict.note("the content had control characters: removed");
    }
    let cleaned = sanitize::clean_html(kept.trim());
    if sanitize::plain_text(&cleaned).trim().is_empty() {
        verdict.draft("the content has no text once sanitized: a placeholder text");
        return format!("<p>No text in QGIS-Feed pk {pk}.</p>");
    }
    if cleaned != kept.trim() {
        verdict.note("content sanitized");
    }
    cleaned
}

/// An http(s) link, or none: another scheme is not kept (the row stays as live as it was).
fn url(raw: Option<&str>, verdict: &mut Verdict) -> String {
    let text = raw.unwrap_or_default().trim();
    let web = text.chars().count() <= limits::URL_CHARS
        && !text.chars().any(char::is_control)
        && is_web_url(text);
    if text.is_empty() || web {
        return text.to_string();
    }
    verdict.note(format!(
        "url {} is not an http(s) link: imported without it",
        quoted(text)
    ));
    String::new()
}

/// A language known here. An unknown one would reach every reader: a draft.
fn language(raw: Option<&str>, verdict: &mut Verdict) -> Option<String> {
    let raw = raw?;
    let code = raw.trim().to_ascii_lowercase();
    if code.is_empty() {
        verdict.note("language_filter is empty: for every language");
        return None;
    }
    if !codes::is_language(&code) {
        verdict.draft(format!(
            "language_filter {} is not a language code known here: imported without it",
            quoted(raw)
        ));
        return None;
    }
    if code != raw {
        verdict.note(format!("language_filter {} stored as {code}", quoted(raw)));
    }
    Some(code)
}

/// The target area. Dropping an area would widen the audience: a row whose
/// area cannot be kept is a draft without it.
fn area(raw: Option<&str>, verdict: &mut Verdict) -> Option<Vec<[f64; 2]>> {
    let text = raw.filter(|text| !text.trim().is_empty())?;
    match ewkt::parse_area(text) {
        Ok(area) => {
            if let Some(how) = area.converted {
                verdict.note(format!("spatial_filter {how}"));
            }
            Some(area.ring)
        }
        Err(reason) => {
            verdict.draft(format!(
                "spatial_filter {}: {reason}; imported without its area",
                quoted(text)
            ));
            None
        }
    }
}

/// One line of at most 255 characters, or none.
fn call_to_action(raw: Option<&str>, verdict: &mut Verdict) -> Option<String> {
    let raw = raw?;
    let line = one_line(raw);
    if line.is_empty() {
        if !raw.is_empty() {
            verdict.note("action_text is blank: dropped");
        }
        return None;
    }
    if line != raw.trim() {
        verdict.note("action_text had line breaks or control characters: made one line");
    }
    if line.chars().count() > limits::SHORT_TEXT_CHARS {
        verdict.note(format!(
            "action_text is longer than {} characters: cut",
            limits::SHORT_TEXT_CHARS
        ));
        return Some(
            line.chars()
                .take(limits::SHORT_TEXT_CHARS)
                .collect::<String>()
                .trim()
                .to_string(),
        );
    }
    Some(line)
}

/// QGIS-Feed's name of one of our entry fields, for error messages.
fn qgis_field(field: &str) -> &str {
    match field {
        "call_to_action" => "action_text",
        "language" => "language_filter",
        "target_area" => "spatial_filter",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_decides_what_is_live_and_status_the_rest() {
        let status = |text, published| life_cycle(text, published).0;
        assert_eq!(status(None, true), EntryStatus::Approved);
        assert_eq!(status(Some("published"), true), EntryStatus::Approved);
        assert_eq!(status(None, false), EntryStatus::Draft);
        assert_eq!(status(Some("pending_review"), false), EntryStatus::Pending);
        assert_eq!(status(Some("approved"), false), EntryStatus::Pending);
        assert_eq!(
            status(Some("changes_requested"), false),
            EntryStatus::ChangesRequested
        );
        assert_eq!(status(Some("rejected"), false), EntryStatus::Rejected);
        assert_eq!(status(Some("published"), false), EntryStatus::Unpublished);
        assert_eq!(
            life_cycle(Some("archived"), false),
            (
                EntryStatus::Draft,
                Some("status \"archived\" is unknown".into())
            )
        );
        assert_eq!(status(Some("archived"), true), EntryStatus::Approved);
        assert!(life_cycle(Some("draft"), true).1.is_some());
    }

    #[test]
    fn a_draft_wins_over_an_end_and_a_rejection_stays() {
        let verdict = |status, draft, expired| {
            Verdict {
                status,
                draft,
                expired,
                notes: Vec::new(),
            }
            .status()
        };
        assert_eq!(
            verdict(EntryStatus::Approved, false, true),
            EntryStatus::Unpublished
        );
        assert_eq!(
            verdict(EntryStatus::Approved, true, true),
            EntryStatus::Draft
        );
        assert_eq!(
            verdict(EntryStatus::Pending, false, true),
            EntryStatus::Pending
        );
        assert_eq!(
            verdict(EntryStatus::Rejected, true, false),
            EntryStatus::Rejected
        );
    }

    #[test]
    fn one_line_drops_control_and_direction_characters() {
        assert_eq!(one_line(" a\nb\u{202E}c\t"), "a bc");
        assert_eq!(one_line("\u{7}\u{2066}"), "");
    }
}
