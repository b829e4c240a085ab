//! Entry input: what editors may set, how a partial update applies, and the
//! validation every revision passes before it is stored.

use super::text::Text;
use chrono::{DateTime, Utc};
use poem_openapi::{Object, types::MaybeUndefined};
use serde::{Deserialize, Serialize};

use super::{EntryKind, codes, geo::Point, sanitize};
use crate::error::FieldError;

/// Latest instant accepted anywhere: keeps `publish_to` inside QGIS's uint32.
const MAX_INSTANT: i64 = 4_102_444_800; // 2100-01-01T00:00:00Z
const MAX_TITLE_CHARS: usize = 255;
const MAX_URL_CHARS: usize = 2048;
const MAX_SHORT_TEXT_CHARS: usize = 255;
const MAX_AREA_POINTS: usize = 1000;

/// The fields of an entry that its group edits (stored, and published when approved).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryFields {
    pub title: String,
    pub content: String,
    pub url: String,
    pub image: String,
    pub language: Option<String>,
    pub target_area: Option<Vec<Point>>,
    pub call_to_action: Option<String>,
    pub publish_from: Option<i64>,
    pub publish_to: Option<i64>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub timezone: Option<String>,
    pub location_name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub online_url: Option<String>,
    pub goal_amount: Option<f64>,
    pub currency: Option<String>,
    pub deadline: Option<i64>,
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

/// Create or update an entry. On create `group`, `kind` and `title` are required;
/// on update `version` is, and absent fields keep their value (`null` clears one).
#[derive(Object, Clone, Debug, Default)]
#[oai(deny_unknown_fields)]
pub struct EntryInput {
    /// Slug of the group that publishes the entry (create only).
    #[oai(nullable)]
    pub group: Option<Text>,
    /// Kind of entry (create only).
    #[oai(nullable)]
    pub kind: Option<EntryKind>,
    /// The version this update is based on (update only); a stale one gets 409.
    #[oai(nullable)]
    pub version: Option<i32>,
    /// Plain-text title, at most 255 characters.
    #[oai(nullable)]
    pub title: Option<Text>,
    /// HTML body; sanitized to p, br, a, strong, em, b, i, u, ul, ol, li, blockquote, code.
    #[oai(nullable)]
    pub content: Option<Text>,
    /// Link for "read more" (http or https), or empty.
    #[oai(nullable)]
    pub url: Option<Text>,
    /// Image URL (http or https), or empty.
    #[oai(nullable)]
    pub image: Option<Text>,
    /// ISO 639-1 language; absent or null means every language.
    #[oai(nullable)]
    pub language: MaybeUndefined<Text>,
    /// Polygon of `[lon, lat]` points: only clients inside it receive the entry.
    #[oai(nullable)]
    pub target_area: MaybeUndefined<Vec<Vec<f64>>>,
    /// Short call-to-action text for the link.
    #[oai(nullable)]
    pub call_to_action: MaybeUndefined<Text>,
    /// Not shown before this instant.
    #[oai(nullable)]
    pub publish_from: MaybeUndefined<DateTime<Utc>>,
    /// Not shown from this instant on.
    #[oai(nullable)]
    pub publish_to: MaybeUndefined<DateTime<Utc>>,
    /// Event or meetup start.
    #[oai(nullable)]
    pub starts_at: MaybeUndefined<DateTime<Utc>>,
    /// Event or meetup end.
    #[oai(nullable)]
    pub ends_at: MaybeUndefined<DateTime<Utc>>,
    /// IANA time zone of an event or meetup, e.g. `Europe/Berlin`.
    #[oai(nullable)]
    pub timezone: MaybeUndefined<Text>,
    /// Where an event or meetup takes place.
    #[oai(nullable)]
    pub location_name: MaybeUndefined<Text>,
    /// Latitude of the venue, -90 to 90.
    #[oai(nullable)]
    pub latitude: MaybeUndefined<f64>,
    /// Longitude of the venue, -180 to 180.
    #[oai(nullable)]
    pub longitude: MaybeUndefined<f64>,
    /// Link to join online.
    #[oai(nullable)]
    pub online_url: MaybeUndefined<Text>,
    /// Crowdfunding goal, more than zero.
    #[oai(nullable)]
    pub goal_amount: MaybeUndefined<f64>,
    /// ISO 4217 currency of the goal.
    #[oai(nullable)]
    pub currency: MaybeUndefined<Text>,
    /// Crowdfunding deadline.
    #[oai(nullable)]
    pub deadline: MaybeUndefined<DateTime<Utc>>,
}

fn apply<T, U: Clone + Into<T>>(target: &mut Option<T>, value: &MaybeUndefined<U>) {
    match value {
        MaybeUndefined::Value(value) => *target = Some(value.clone().into()),
        MaybeUndefined::Null => *target = None,
        MaybeUndefined::Undefined => {}
    }
}

fn apply_instant(target: &mut Option<i64>, value: &MaybeUndefined<DateTime<Utc>>) {
    apply(
        target,
        &value.as_ref().map_value(|instant| instant.timestamp()),
    );
}

impl EntryFields {
    /// Applies the fields present in `input`; validation comes after.
    pub fn apply(&mut self, input: &EntryInput) {
        for (target, value) in [
            (&mut self.title, &input.title),
            (&mut self.content, &input.content),
            (&mut self.url, &input.url),
            (&mut self.image, &input.image),
        ] {
            if let Some(value) = value {
                target.clone_from(&value.0);
            }
        }
        apply(&mut self.language, &input.language);
        apply(
            &mut self.target_area,
            &input
                .target_area
                .as_ref()
                .map_value(|points| -> Vec<Point> {
                    points
                        .iter()
                        .map(|point| match point.as_slice() {
                            [lon, lat] => [*lon, *lat],
                            // Marked invalid (NaN) so validation names the field.
                            _ => [f64::NAN, f64::NAN],
                        })
                        .collect()
                }),
        );
        apply(&mut self.call_to_action, &input.call_to_action);
        apply_instant(&mut self.publish_from, &input.publish_from);
        apply_instant(&mut self.publish_to, &input.publish_to);
        apply_instant(&mut self.starts_at, &input.starts_at);
        apply_instant(&mut self.ends_at, &input.ends_at);
        apply(&mut self.timezone, &input.timezone);
        apply(&mut self.location_name, &input.location_name);
        apply(&mut self.latitude, &input.latitude);
        apply(&mut self.longitude, &input.longitude);
        apply(&mut self.online_url, &input.online_url);
        apply(&mut self.goal_amount, &input.goal_amount);
        apply(&mut self.currency, &input.currency);
        apply_instant(&mut self.deadline, &input.deadline);
    }
}

/// Whether `text` is an absolute http(s) URL.
pub fn is_web_url(text: &str) -> bool {
    url::Url::parse(text)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
        .unwrap_or(false)
}

struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn url(&mut self, field: &str, value: &str) {
        if value.chars().count() > MAX_URL_CHARS {
            self.fail(field, format!("must be at most {MAX_URL_CHARS} characters"));
        } else if !value.is_empty() && (value.contains('\0') || !is_web_url(value)) {
            self.fail(field, "must be an absolute http or https URL");
        }
    }

    fn short_text(&mut self, field: &str, value: &mut Option<String>) {
        if let Some(text) = value {
            let trimmed = text.trim();
            if trimmed.chars().count() > MAX_SHORT_TEXT_CHARS {
                self.fail(
                    field,
                    format!("must be at most {MAX_SHORT_TEXT_CHARS} characters"),
                );
            } else if trimmed.contains('\0') {
                // PostgreSQL text cannot hold NUL.
                self.fail(field, "must not contain NUL characters");
            }
            *value = (!trimmed.is_empty()).then(|| trimmed.to_string());
        }
    }

    fn instant(&mut self, field: &str, value: Option<i64>) {
        if value.is_some_and(|instant| !(0..MAX_INSTANT).contains(&instant)) {
            self.fail(field, "must be between 1970 and 2100");
        }
    }

    fn only_for(&mut self, field: &str, present: bool, allowed: bool, kinds: &str) {
        if present && !allowed {
            self.fail(field, format!("only applies to {kinds}"));
        }
    }

    fn required(&mut self, field: &str, present: bool, kinds: &str) {
        if !present {
            self.fail(field, format!("is required for {kinds}"));
        }
    }
}

/// Validates and normalizes a whole revision of an entry of `kind`.
pub fn validate(
    kind: EntryKind,
    fields: &mut EntryFields,
    content_max_chars: usize,
) -> Result<(), Vec<FieldError>> {
    let mut check = Checker { errors: Vec::new() };

    fields.title = fields.title.trim().to_string();
    let title_chars = fields.title.chars().count();
    if title_chars == 0 {
        check.fail("title", "must not be empty");
    } else if title_chars > MAX_TITLE_CHARS {
        check.fail(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        );
    } else if fields.title.chars().any(char::is_control) {
        check.fail("title", "must not contain control characters");
    }

    fields.content = sanitize::clean_html(fields.content.trim());
    let content_chars = sanitize::plain_text(&fields.content).trim().chars().count();
    if content_chars == 0 {
        check.fail("content", "must not be empty");
    } else if content_chars > content_max_chars {
        check.fail(
            "content",
            format!("must be at most {content_max_chars} characters of text, has {content_chars}"),
        );
    }

    fields.url = fields.url.trim().to_string();
    fields.image = fields.image.trim().to_string();
    check.url("url", &fields.url);
    check.url("image", &fields.image);

    if let Some(language) = &mut fields.language {
        *language = language.trim().to_ascii_lowercase();
        if !codes::is_language(language) {
            check.fail("language", "must be an ISO 639-1 code such as `en`");
        }
    }

    if let Some(area) = &fields.target_area {
        if area.len() < 3 || area.len() > MAX_AREA_POINTS {
            check.fail(
                "target_area",
                format!("must have 3 to {MAX_AREA_POINTS} points"),
            );
        } else if !area
            .iter()
            .all(|[lon, lat]| valid_lon(*lon) && valid_lat(*lat))
        {
            check.fail(
                "target_area",
                "every point must be [lon, lat] with lon in -180..180 and lat in -90..90",
            );
        }
    }

    check.short_text("call_to_action", &mut fields.call_to_action);
    check.short_text("location_name", &mut fields.location_name);

    for (field, value) in [
        ("publish_from", fields.publish_from),
        ("publish_to", fields.publish_to),
        ("starts_at", fields.starts_at),
        ("ends_at", fields.ends_at),
        ("deadline", fields.deadline),
    ] {
        check.instant(field, value);
    }
    if let (Some(from), Some(to)) = (fields.publish_from, fields.publish_to) {
        if to <= from {
            check.fail("publish_to", "must be after publish_from");
        }
    }

    let dated = kind.is_dated();
    const DATED: &str = "events and meetups";
    for (field, present) in [
        ("starts_at", fields.starts_at.is_some()),
        ("ends_at", fields.ends_at.is_some()),
        ("timezone", fields.timezone.is_some()),
    ] {
        if dated {
            check.required(field, present, DATED);
        } else {
            check.only_for(field, present, false, DATED);
        }
    }
    for (field, present) in [
        ("location_name", fields.location_name.is_some()),
        ("latitude", fields.latitude.is_some()),
        ("longitude", fields.longitude.is_some()),
        ("online_url", fields.online_url.is_some()),
    ] {
        check.only_for(field, present, dated, DATED);
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
        check.url("online_url", online_url);
    }

    let crowdfunding = kind == EntryKind::Crowdfunding;
    const FUNDING: &str = "crowdfunding";
    for (field, present) in [
        ("goal_amount", fields.goal_amount.is_some()),
        ("currency", fields.currency.is_some()),
        ("deadline", fields.deadline.is_some()),
    ] {
        if crowdfunding {
            check.required(field, present, FUNDING);
        } else {
            check.only_for(field, present, false, FUNDING);
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

    if check.errors.is_empty() {
        Ok(())
    } else {
        Err(check.errors)
    }
}

fn valid_lat(lat: f64) -> bool {
    (-90.0..=90.0).contains(&lat)
}

fn valid_lon(lon: f64) -> bool {
    (-180.0..=180.0).contains(&lon)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement() -> EntryFields {
        EntryFields {
            title: "QGIS 4 released".into(),
            content: "<p>Hello</p>".into(),
            ..EntryFields::default()
        }
    }

    fn fields_of(result: Result<(), Vec<FieldError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

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
            ["starts_at", "ends_at", "timezone"]
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
    fn diff_lists_changed_fields() {
        let old = announcement();
        let mut new = old.clone();
        new.title = "New".into();
        let changes = diff(&old, &new);
        assert_eq!(changes.keys().collect::<Vec<_>>(), ["title"]);
    }
}
