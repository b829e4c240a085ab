//! The fields of an entry, how a partial update applies, and the validation
//! every revision passes before it is stored.
//!
//! The fields are declared once, in [`with_entry_fields!`]; the domain
//! structs below, the API's request and response shapes and the database
//! mapping are all generated from that one list.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::geo::{self, Point, valid_lat, valid_lon};
use super::validate::quoted;
use super::validate::{Checker, FieldError};
use super::{Attendance, EntryKind, EventStatus, codes, limits, media, recurrence, sanitize};

/// Calls `$callback!` with every editable field of an entry, as
/// `kind name "description"` rows in two lists: the fields every entry has,
/// and the fields that belong to particular kinds (events and meetups,
/// crowdfunding). The kind says how each layer represents the field:
/// - `text`: always present (possibly empty), one line, `String`
/// - `html`: always present, sanitized HTML (may hold newlines), `String`
/// - `line`: optional text, `Option<String>`
/// - `instant`: optional instant, `Option<i64>` unix seconds
/// - `number`: optional `f64`
/// - `area`: optional polygon of `[lon, lat]` points
/// - `reference`: optional id of a saved area, `Option<i64>`
/// - `list`: a list of short texts, `Vec<String>` (empty when none)
/// - `moves`: a map of short texts to short texts, `BTreeMap<String, String>`
/// - `translations`: texts in other languages, [`Translations`]
///
/// Adding a field: a row here, a column in `entities::entry` and a migration.
macro_rules! with_entry_fields {
    ($callback:ident) => {
        $callback! {
            common: [
                text title "Plain-text title, at most 255 characters. Required.",
                html content "HTML body, required; sanitized to p, br, a, strong, em, b, i, u, ul, ol, li, blockquote, code.",
                text url "Link for \"read more\" (http or https), or empty.",
                text image "Image: `/media/<hash>.jpg` as set by an upload (`POST /api/v1/entries/{id}/image`), an http(s) URL (moderators only), or empty.",
                line image_alt "What the image shows, for people who cannot see it (at most 255 characters).",
                line language "ISO 639-1 language; absent or null means every language.",
                area target_area "Polygon of `[lon, lat]` points: only clients inside it receive the entry.",
                reference target_area_id "Id of a saved area (`GET /api/v1/areas`) to deliver to instead of `target_area`; editing the area moves the entry with it.",
                line call_to_action "Short call-to-action text for the link.",
                translations translations "The entry in other languages than `language`, by ISO 639-1 code: `{\"fr\": {\"title\": \"...\", \"content\": \"<p>...</p>\", \"call_to_action\": \"...\", \"image_alt\": \"...\"}}` (at most 10). A title is required; an empty content, call to action or alt text falls back to the main one. Readers whose language has one get it (QGIS, feeds, pages, embeds).",
                instant publish_from "Not shown before this instant.",
                instant publish_to "Not shown from this instant on. Omitted or null: the end of the event or meetup (its last occurrence for a series), the deadline of a crowdfunding campaign, `--announcement-days` after `publish_from` for an announcement. An event is never published past its end.",
            ],
            kind: [
                instant starts_at "Event or meetup start. Required for events and meetups, refused for other kinds.",
                instant ends_at "Event or meetup end (of the first occurrence for a series), not before the start; without one it lasts `--event-default-hours`. Events and meetups only.",
                line timezone "IANA time zone of an event or meetup, e.g. `Europe/Berlin`. Required for events and meetups, refused for other kinds.",
                line location_name "Where an event or meetup takes place (events and meetups only).",
                number latitude "Latitude of the venue, -90 to 90, with `longitude` (events and meetups only).",
                number longitude "Longitude of the venue, -180 to 180, with `latitude` (events and meetups only).",
                line online_url "Link to join online: events and meetups attended `online` or `hybrid` only.",
                line event_status "`confirmed` (the default), `tentative`, `postponed` or `cancelled`: events and meetups only. The group may change it on a live entry without a new review (`POST /api/v1/entries/{id}/event-status`).",
                line attendance "`in_person`, `online` or `hybrid`: events and meetups only. Default: `online` with only an `online_url`, `hybrid` with an `online_url` and a `location_name`, else `in_person`.",
                line recurrence "RFC 5545 RRULE of a recurring event or meetup, e.g. `FREQ=MONTHLY;BYDAY=3TH;COUNT=12`: FREQ WEEKLY, MONTHLY or YEARLY, INTERVAL, BYDAY (with ordinals), BYMONTHDAY, and COUNT or UNTIL (required: at most 500 occurrences within 2 years). Expanded in `timezone` from `starts_at`.",
                list exdates "Cancelled occurrences of a series, as local date-times `YYYY-MM-DDTHH:MM` in the venue's zone.",
                moves moved_occurrences "Moved occurrences of a series: `{\"2027-03-18T18:30\": \"2027-03-25T19:00\"}` maps an occurrence (local time) to its new start (local time); it keeps its length.",
                number goal_amount "Crowdfunding goal, more than zero. Required for crowdfunding, refused for other kinds.",
                line currency "ISO 4217 currency of the goal. Required for crowdfunding, refused for other kinds.",
                instant deadline "Crowdfunding deadline. Required for crowdfunding, refused for other kinds.",
                number raised_amount "Amount raised so far, in `currency` (crowdfunding only). The group may update it on a live entry without a new review.",
            ],
        }
    };
}
pub(crate) use with_entry_fields;

/// The domain type of each field kind of [`with_entry_fields!`].
macro_rules! field_type {
    (text) => { String };
    (html) => { String };
    (line) => { Option<String> };
    (instant) => { Option<i64> };
    (number) => { Option<f64> };
    (area) => { Option<Vec<Point>> };
    (reference) => { Option<i64> };
    (list) => { Vec<String> };
    (moves) => { std::collections::BTreeMap<String, String> };
    (translations) => { Translations };
}

macro_rules! declare_entry_fields {
    (
        common: [$($common_kind:ident $common:ident $common_doc:literal),* $(,)?],
        kind: [$($kind_kind:ident $kind:ident $kind_doc:literal),* $(,)?] $(,)?
    ) => {
        /// The fields of an entry that its group edits (stored, and published when approved).
        // A field added later is absent from revisions stored before it.
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct EntryFields {
            $(#[doc = $common_doc] pub $common: field_type!($common_kind),)*
            $(#[doc = $kind_doc] pub $kind: field_type!($kind_kind),)*
        }

        /// A partial update of [`EntryFields`]: `None` keeps a field, `Some`
        /// replaces it (`Some(None)` clears an optional one).
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct EntryPatch {
            $(pub $common: Option<field_type!($common_kind)>,)*
            $(pub $kind: Option<field_type!($kind_kind)>,)*
        }

        impl From<EntryFields> for EntryPatch {
            /// A patch that replaces every field with those of `fields`.
            fn from(fields: EntryFields) -> Self {
                Self {
                    $($common: Some(fields.$common),)*
                    $($kind: Some(fields.$kind),)*
                }
            }
        }

        impl EntryFields {
            /// The fields' names, in the order of the form.
            pub const NAMES: &'static [&'static str] =
                &[$(stringify!($common),)* $(stringify!($kind),)*];

            /// Applies the fields present in `patch`; validation comes after.
            pub fn apply(&mut self, patch: EntryPatch) {
                $(if let Some(value) = patch.$common { self.$common = value; })*
                $(if let Some(value) = patch.$kind { self.$kind = value; })*
            }
        }
    };
}

with_entry_fields!(declare_entry_fields);

/// The texts of an entry in one other language than its main one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Translation {
    pub title: String,
    /// Sanitized HTML; empty: the main text.
    pub content: String,
    pub call_to_action: Option<String>,
    pub image_alt: Option<String>,
}

/// An entry's translations by ISO 639-1 code, never its main language.
pub type Translations = std::collections::BTreeMap<String, Translation>;

/// The texts a translation has; each is named `translations.<code>.<part>`
/// in errors (and in the web form's inputs).
pub const TRANSLATION_PARTS: [&str; 4] = ["title", "content", "call_to_action", "image_alt"];

/// The name of `part` of the translation into `code`: `translations.fr.title`.
pub fn translation_name(code: &str, part: &str) -> String {
    format!("translations.{code}.{part}")
}

/// `(code, part)` of a name such as `translations.fr.title`.
pub fn translation_field(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("translations.")?;
    let (code, part) = rest.rsplit_once('.')?;
    TRANSLATION_PARTS.contains(&part).then_some((code, part))
}

impl EntryFields {
    /// The texts for a reader of `language`: its translation, each text
    /// falling back to the main one when the translation leaves it empty.
    pub fn in_language(&self, language: &str) -> Option<Translation> {
        let translation = self.translations.get(language)?;
        let or_main =
            |text: &Option<String>, main: &Option<String>| text.clone().or_else(|| main.clone());
        Some(Translation {
            title: translation.title.clone(),
            content: if translation.content.is_empty() {
                self.content.clone()
            } else {
                translation.content.clone()
            },
            call_to_action: or_main(&translation.call_to_action, &self.call_to_action),
            image_alt: or_main(&translation.image_alt, &self.image_alt),
        })
    }
}

/// The approved revision the feeds publish, frozen at approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveRevision {
    pub kind: EntryKind,
    pub sticky: bool,
    pub priority: i32,
    #[serde(flatten)]
    pub fields: EntryFields,
}

/// The approved revision as stored, with when QGIS clients were last sent
/// it as new or changed (`after` answers by it): approvals other than
/// corrections, and changes made without review. `None` on a row imported
/// from QGIS-Feed and not published here since: its last change (QGIS-Feed's
/// `modified`) stands in, and a missing `publish_from` stays missing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishedRevision {
    #[serde(flatten)]
    pub live: LiveRevision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<i64>,
}

/// Validates and normalizes a whole revision of an entry of `kind`.
pub fn validate(
    kind: EntryKind,
    fields: &mut EntryFields,
    content_max_chars: usize,
) -> Result<(), Vec<FieldError>> {
    let mut check = Checker::new();

    fields.title = check.line("title", &fields.title, limits::TITLE_CHARS, true);
    fields.content = check_content(
        &mut check,
        "content",
        &fields.content,
        content_max_chars,
        true,
    );

    fields.url = check.url("url", &fields.url);
    fields.image = match media::hash_of(fields.image.trim()) {
        Some(hash) => media::media_path(hash),
        None => check.url("image", &fields.image),
    };

    if let Some(language) = &mut fields.language {
        *language = language.trim().to_ascii_lowercase();
        if !codes::is_language(language) {
            check.fail("language", "must be an ISO 639-1 code such as `en`");
        }
    }

    if let Some(area) = &fields.target_area {
        geo::check_area(&mut check, "target_area", area);
        if fields.target_area_id.is_some() {
            check.fail(
                "target_area_id",
                "give either target_area or target_area_id, not both",
            );
        }
    }

    fields.call_to_action = check.optional_line(
        "call_to_action",
        fields.call_to_action.as_deref(),
        limits::SHORT_TEXT_CHARS,
    );
    fields.location_name = check.optional_line(
        "location_name",
        fields.location_name.as_deref(),
        limits::SHORT_TEXT_CHARS,
    );
    fields.image_alt = check.optional_line(
        "image_alt",
        fields.image_alt.as_deref(),
        limits::TITLE_CHARS,
    );
    fields.translations = check_translations(
        &mut check,
        fields.language.as_deref(),
        std::mem::take(&mut fields.translations),
        content_max_chars,
    );

    for (field, value) in [
        ("publish_from", fields.publish_from),
        ("publish_to", fields.publish_to),
        ("starts_at", fields.starts_at),
        ("ends_at", fields.ends_at),
        ("deadline", fields.deadline),
    ] {
        if value.is_some_and(|instant| !(0..limits::MAX_INSTANT).contains(&instant)) {
            check.fail(field, "must be between 1970 and 2100");
        }
    }
    if let (Some(from), Some(to)) = (fields.publish_from, fields.publish_to) {
        if to <= from {
            check.fail("publish_to", "must be after publish_from");
        }
    }

    check_kind_fields(kind, fields, &mut check);
    check.finish()
}

/// HTML text, sanitized: no control characters but line ends and tabs, at
/// most `max_chars` characters of text, and some when `required`.
fn check_content(
    check: &mut Checker,
    field: &str,
    html: &str,
    max_chars: usize,
    required: bool,
) -> String {
    if html
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        check.fail(field, "must not contain control characters");
    }
    let html = sanitize::clean_html(html.trim());
    let chars = sanitize::plain_text(&html).trim().chars().count();
    if chars == 0 && required {
        check.fail(field, "must not be empty");
    } else if chars > max_chars {
        check.fail(
            field,
            format!("must be at most {max_chars} characters of text, has {chars}"),
        );
    }
    if chars == 0 { String::new() } else { html }
}

/// Each translation checked as the main texts are, keyed by a known
/// language other than the main one.
fn check_translations(
    check: &mut Checker,
    main_language: Option<&str>,
    translations: Translations,
    content_max_chars: usize,
) -> Translations {
    if translations.len() > limits::MAX_TRANSLATIONS {
        check.fail(
            "translations",
            format!("must be at most {} languages", limits::MAX_TRANSLATIONS),
        );
    }
    let mut checked = Translations::new();
    for (language, translation) in translations {
        let language = language.trim().to_ascii_lowercase();
        let field = |part: &str| translation_name(&language, part);
        if !codes::is_language(&language) {
            check.fail(
                "translations",
                format!(
                    "{} is not an ISO 639-1 code such as `fr`",
                    quoted(&language)
                ),
            );
        } else if main_language == Some(language.as_str()) {
            check.fail(
                "translations",
                format!(
                    "{} is the main language; give its texts in title and content",
                    quoted(&language)
                ),
            );
        } else if checked.contains_key(&language) {
            check.fail(
                "translations",
                format!("{} is given twice", quoted(&language)),
            );
        }
        let translation = Translation {
            title: check.line(
                &field("title"),
                &translation.title,
                limits::TITLE_CHARS,
                true,
            ),
            content: check_content(
                check,
                &field("content"),
                &translation.content,
                content_max_chars,
                false,
            ),
            call_to_action: check.optional_line(
                &field("call_to_action"),
                translation.call_to_action.as_deref(),
                limits::SHORT_TEXT_CHARS,
            ),
            image_alt: check.optional_line(
                &field("image_alt"),
                translation.image_alt.as_deref(),
                limits::TITLE_CHARS,
            ),
        };
        checked.insert(language, translation);
    }
    checked
}

/// The fields that only some kinds have: required there, refused elsewhere.
fn check_kind_fields(kind: EntryKind, fields: &mut EntryFields, check: &mut Checker) {
    check_event_fields(kind.is_dated(), fields, check);
    check_funding_fields(kind == EntryKind::Crowdfunding, fields, check);
}

/// The date, place, status and series of events and meetups.
fn check_event_fields(dated: bool, fields: &mut EntryFields, check: &mut Checker) {
    const DATED: &str = "events and meetups";
    for (field, present) in [
        ("starts_at", fields.starts_at.is_some()),
        ("timezone", fields.timezone.is_some()),
    ] {
        if dated && !present {
            check.fail(field, format!("is required for {DATED}"));
        } else if !dated && present {
            check.fail(field, format!("only applies to {DATED}"));
        }
    }
    for (field, present) in [
        ("ends_at", fields.ends_at.is_some()),
        ("location_name", fields.location_name.is_some()),
        ("latitude", fields.latitude.is_some()),
        ("longitude", fields.longitude.is_some()),
        ("online_url", fields.online_url.is_some()),
        ("event_status", fields.event_status.is_some()),
        ("attendance", fields.attendance.is_some()),
        ("recurrence", fields.recurrence.is_some()),
        ("exdates", !fields.exdates.is_empty()),
        ("moved_occurrences", !fields.moved_occurrences.is_empty()),
    ] {
        if present && !dated {
            check.fail(field, format!("only applies to {DATED}"));
        }
    }
    if let (Some(starts), Some(ends)) = (fields.starts_at, fields.ends_at) {
        if ends < starts {
            check.fail("ends_at", "must not be before starts_at");
        }
    }
    if let Some(timezone) = &fields.timezone {
        if timezone.parse::<chrono_tz::Tz>().is_err() {
            check.fail(
                "timezone",
                "must be an IANA time zone such as `Europe/Berlin`",
            );
        }
    }
    match (fields.latitude, fields.longitude) {
        (Some(lat), Some(lon)) => {
            if !valid_lat(lat) {
                check.fail("latitude", "must be between -90 and 90");
            }
            if !valid_lon(lon) {
                check.fail("longitude", "must be between -180 and 180");
            }
        }
        (None, None) => {}
        (None, Some(_)) => check.fail("latitude", "must be given with longitude"),
        (Some(_), None) => check.fail("longitude", "must be given with latitude"),
    }
    if let Some(online_url) = &fields.online_url {
        fields.online_url = Some(check.url("online_url", online_url));
    }
    if let Some(status) = &mut fields.event_status {
        *status = status.trim().to_ascii_lowercase();
        if EventStatus::parse(status).is_none() {
            check.fail(
                "event_status",
                "must be confirmed, tentative, postponed or cancelled",
            );
        }
    }
    if let Some(attendance) = &mut fields.attendance {
        *attendance = attendance.trim().to_ascii_lowercase();
        match Attendance::parse(attendance) {
            None => check.fail("attendance", "must be in_person, online or hybrid"),
            Some(Attendance::InPerson) if fields.online_url.is_some() => check.fail(
                "online_url",
                "only applies to events attended online or hybrid (set attendance)",
            ),
            Some(_) => {}
        }
    }
    if dated {
        if fields.event_status.is_none() {
            fields.event_status = Some(EventStatus::Confirmed.as_str().into());
        }
        check_series(check, fields);
    }
}

/// The goal, currency, deadline and amount raised of a campaign.
fn check_funding_fields(crowdfunding: bool, fields: &mut EntryFields, check: &mut Checker) {
    const FUNDING: &str = "crowdfunding";
    for (field, present) in [
        ("goal_amount", fields.goal_amount.is_some()),
        ("currency", fields.currency.is_some()),
        ("deadline", fields.deadline.is_some()),
    ] {
        if crowdfunding && !present {
            check.fail(field, format!("is required for {FUNDING}"));
        } else if !crowdfunding && present {
            check.fail(field, format!("only applies to {FUNDING}"));
        }
    }
    if let Some(raised) = fields.raised_amount {
        if !crowdfunding {
            check.fail("raised_amount", format!("only applies to {FUNDING}"));
        } else if !(raised.is_finite() && (0.0..1e15).contains(&raised)) {
            check.fail("raised_amount", "must be zero or a positive amount");
        }
    }
    if let Some(goal) = fields.goal_amount {
        if !(goal.is_finite() && goal > 0.0 && goal < 1e15) {
            check.fail("goal_amount", "must be a positive amount");
        }
    }
    if let Some(currency) = &mut fields.currency {
        *currency = currency.trim().to_ascii_uppercase();
        if !codes::is_currency(currency) {
            check.fail("currency", "must be an ISO 4217 code such as `EUR`");
        }
    }
}

/// Checks the series fields of an event or meetup (after its dates and
/// zone were checked) and writes the rule in canonical form.
pub fn check_series(check: &mut Checker, fields: &mut EntryFields) {
    let Some(rule) = fields.recurrence.clone() else {
        for (field, present) in [
            ("exdates", !fields.exdates.is_empty()),
            ("moved_occurrences", !fields.moved_occurrences.is_empty()),
        ] {
            if present {
                check.fail(
                    field,
                    "only applies to a recurring event (with `recurrence`)",
                );
            }
        }
        return;
    };
    let (Some(starts_at), Some(zone)) = (
        fields.starts_at,
        fields
            .timezone
            .as_deref()
            .and_then(|name| name.parse::<chrono_tz::Tz>().ok()),
    ) else {
        return;
    };
    let (rule, starts) = match recurrence::expand(&rule, starts_at, zone) {
        Ok(expanded) => expanded,
        Err(message) => return check.fail("recurrence", message),
    };
    fields.recurrence = Some(rule);
    let names: BTreeSet<String> = starts
        .iter()
        .map(|at| at.format(recurrence::LOCAL_FORMAT).to_string())
        .collect();
    let not_an_occurrence = |name: &str| {
        format!(
            "{} is not an occurrence of the series (local times such as {})",
            quoted(name),
            names.first().map(String::as_str).unwrap_or_default()
        )
    };
    if fields.exdates.len() > recurrence::MAX_OCCURRENCES {
        check.fail("exdates", "has more dates than the series has occurrences");
    }
    fields.exdates.sort();
    fields.exdates.dedup();
    if let Some(unknown) = fields.exdates.iter().find(|name| !names.contains(*name)) {
        check.fail("exdates", not_an_occurrence(unknown));
    }
    for (from, to) in &fields.moved_occurrences {
        if !names.contains(from) {
            check.fail("moved_occurrences", not_an_occurrence(from));
        } else if fields.exdates.contains(from) {
            check.fail(
                "moved_occurrences",
                format!("{} is cancelled in exdates", quoted(from)),
            );
        } else if recurrence::parse_local(to, zone).is_none() {
            check.fail(
                "moved_occurrences",
                format!(
                    "{} must be a local date-time such as 2027-03-25T18:30 that exists in {zone}",
                    quoted(to)
                ),
            );
        }
    }
}

/// What a search of an entry reads: the words of its title, text (without
/// markup) and place (stored for the published revision in
/// `entries.live_search`, for the working one in `entries.working_search`).
pub fn search_text(fields: &EntryFields) -> String {
    super::search::document(&[
        fields.title.as_str(),
        // A tag separates words: `a</p><p>b` is two.
        &sanitize::plain_text(&fields.content.replace('>', "> ")),
        fields.location_name.as_deref().unwrap_or_default(),
    ])
}

/// The fields that differ between two revisions, as `{field: [old, new]}`.
pub fn diff<T: Serialize>(old: &T, new: &T) -> serde_json::Map<String, serde_json::Value> {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return serde_json::Map::new();
    };
    new.into_iter()
        .filter_map(|(field, value)| {
            let before = old.get(&field).cloned().unwrap_or(serde_json::Value::Null);
            (before != value).then(|| (field, serde_json::Value::Array(vec![before, value])))
        })
        .collect()
}

/// What an edit changed, in a sentence for its author: `What changed:
/// title, call to action.`
pub fn changed_sentence(changes: &serde_json::Map<String, serde_json::Value>) -> String {
    let names: Vec<String> = changes
        .keys()
        .map(|field| field.replace('_', " "))
        .collect();
    format!("What changed: {}.", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_told_in_words() {
        let old = announcement();
        let mut new = announcement();
        new.title = "QGIS 4.0 released".into();
        new.call_to_action = Some("Download".into());
        assert_eq!(
            changed_sentence(&diff(&old, &new)),
            "What changed: call to action, title."
        );
    }

    fn announcement() -> EntryFields {
        EntryFields {
            title: "QGIS 4 released".into(),
            content: "<p>Hello</p>".into(),
            ..EntryFields::default()
        }
    }

    use crate::domain::validate::failed_fields as fields_of;

    #[test]
    fn a_plain_announcement_is_valid() {
        let mut fields = announcement();
        assert_eq!(validate(EntryKind::Announcement, &mut fields, 500), Ok(()));
    }

    #[test]
    fn events_need_dates_and_a_timezone() {
        let mut fields = announcement();
        assert_eq!(
            fields_of(validate(EntryKind::Event, &mut fields, 500)),
            ["starts_at", "timezone"]
        );
        fields.starts_at = Some(2_000_000_000);
        fields.ends_at = Some(1_999_999_999);
        fields.timezone = Some("Mars/Olympus".into());
        assert_eq!(
            fields_of(validate(EntryKind::Event, &mut fields, 500)),
            ["ends_at", "timezone"]
        );
    }

    #[test]
    fn kind_fields_are_refused_on_other_kinds() {
        let mut fields = announcement();
        fields.currency = Some("EUR".into());
        fields.latitude = Some(1.0);
        fields.longitude = Some(1.0);
        assert_eq!(
            fields_of(validate(EntryKind::Announcement, &mut fields, 500)),
            ["latitude", "longitude", "currency"]
        );
    }

    #[test]
    fn crowdfunding_needs_a_positive_goal_in_a_real_currency() {
        let mut fields = announcement();
        fields.goal_amount = Some(-1.0);
        fields.currency = Some("eur".into());
        fields.deadline = Some(2_000_000_000);
        assert_eq!(
            fields_of(validate(EntryKind::Crowdfunding, &mut fields, 500)),
            ["goal_amount"]
        );
        assert_eq!(fields.currency.as_deref(), Some("EUR"));
    }

    #[test]
    fn content_length_counts_text_not_markup() {
        let mut fields = announcement();
        fields.content = format!("<p><b>{}</b></p>", "x".repeat(10));
        assert_eq!(validate(EntryKind::Announcement, &mut fields, 10), Ok(()));
        fields.content = "x".repeat(11);
        assert_eq!(
            fields_of(validate(EntryKind::Announcement, &mut fields, 10)),
            ["content"]
        );
    }

    #[test]
    fn urls_must_be_web_urls() {
        let mut fields = announcement();
        fields.url = "javascript:alert(1)".into();
        fields.image = "ftp://x/y.png".into();
        assert_eq!(
            fields_of(validate(EntryKind::Announcement, &mut fields, 500)),
            ["url", "image"]
        );
    }

    #[test]
    fn patches_keep_absent_fields_and_clear_nulls() {
        let mut fields = announcement();
        fields.language = Some("en".into());
        fields.apply(EntryPatch {
            title: Some("New".into()),
            language: Some(None),
            ..EntryPatch::default()
        });
        assert_eq!(fields.title, "New");
        assert_eq!(fields.content, "<p>Hello</p>");
        assert_eq!(fields.language, None);
    }

    #[test]
    fn translation_texts_are_named_by_language_and_part() {
        assert_eq!(translation_name("fr", "title"), "translations.fr.title");
        assert_eq!(
            translation_field("translations.pt.image_alt"),
            Some(("pt", "image_alt"))
        );
        assert_eq!(translation_field("translations.de.colour"), None);
        assert_eq!(translation_field("translations"), None);
        let mut fields = announcement();
        fields.language = Some("de".into());
        fields
            .translations
            .insert("fr".into(), Translation::default());
        assert_eq!(
            fields_of(validate(EntryKind::Announcement, &mut fields, 500)),
            ["translations.fr.title"]
        );
    }

    #[test]
    fn diff_lists_changed_fields() {
        let old = announcement();
        let mut new = old.clone();
        new.title = "New".into();
        let changes = diff(&old, &new);
        assert_eq!(changes.keys().collect::<Vec<_>>(), ["title"]);
    }
}
