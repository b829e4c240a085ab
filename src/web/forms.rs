//! Form bodies into the domain's types. Field names are the API's; what a
//! browser sends as text (dates in a time zone, numbers, a pasted polygon)
//! is parsed here, and every rule stays in `domain`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::entry::{
    EntryFields, EntryPatch, Translation, Translations, translation_field, translation_name,
    with_entry_fields,
};
use crate::domain::geo::Point;
use crate::domain::sanitize::escape_html;
use crate::domain::validate::Checker;
use crate::domain::{EntryKind, FieldError};

/// The checkbox of irreversible steps.
const CONFIRM: &str = "confirm";

/// A parsed `application/x-www-form-urlencoded` body.
#[derive(Clone, Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self {
            pairs: url::form_urlencoded::parse(body).into_owned().collect(),
        }
    }

    /// A form from its fields, as a multipart body sent them.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// Sets field `name` to `value` alone.
    pub fn set(&mut self, name: &str, value: &str) {
        self.pairs.retain(|(key, _)| key != name);
        self.pairs.push((name.to_string(), value.to_string()));
    }

    /// A form as it was shown (its values), to read again.
    pub fn from_values(values: &HashMap<String, String>) -> Self {
        Self {
            pairs: values
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        }
    }

    /// The first value of `name`, or empty.
    pub fn text(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// `None` when the field is absent or blank.
    pub fn optional(&self, name: &str) -> Option<&str> {
        Some(self.text(name).trim()).filter(|text| !text.is_empty())
    }

    /// Drops every field whose name `drop` picks.
    pub fn remove_where(&mut self, drop: impl Fn(&str) -> bool) {
        self.pairs.retain(|(key, _)| !drop(key));
    }

    /// Whether the form has a field `name` (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| key == name)
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.text(name), "on" | "true" | "1" | "yes")
    }

    /// A step that cannot be undone is taken only with its box `confirm`
    /// ticked; otherwise this is the error to show next to the box.
    pub fn unconfirmed(&self) -> Option<FieldError> {
        (!self.checked(CONFIRM))
            .then(|| FieldError::new(CONFIRM, "tick the box to confirm: this cannot be undone"))
    }

    /// Every field, for showing a form again as it was sent.
    pub fn values(&self) -> HashMap<String, String> {
        let mut values = HashMap::new();
        for (key, value) in &self.pairs {
            values.entry(key.clone()).or_insert_with(|| value.clone());
        }
        values
    }
}

/// What a form shows: the values and the errors next to their fields.
#[derive(Clone, Debug, Default)]
pub struct FormState {
    pub values: HashMap<String, String>,
    pub errors: Vec<FieldError>,
}

impl FormState {
    pub fn new(values: HashMap<String, String>) -> Self {
        Self {
            values,
            errors: Vec::new(),
        }
    }

    pub fn with_errors(values: HashMap<String, String>, errors: Vec<FieldError>) -> Self {
        Self { values, errors }
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// The error shown next to field `name`, in the reader's words.
    pub fn error(&self, name: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|error| error.field == name)
            .map(|error| super::display::readable_message(name, &error.message))
    }

    pub fn is(&self, name: &str, value: &str) -> bool {
        self.value(name) == value
    }
}

/// A path of ours to go to after signing in; anything else (another host,
/// `//host`, a backslash trick) goes to the start page.
pub fn safe_next(next: &str) -> &str {
    let ours = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ours { next } else { "/" }
}

/// `text` for a query string.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The browser's `datetime-local` format.
const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// An instant as a `datetime-local` value in `zone` (UTC when `None`).
pub fn local_value(instant: i64, zone: Option<Tz>) -> String {
    let utc = DateTime::<Utc>::from_timestamp(instant, 0).unwrap_or_default();
    match zone {
        Some(zone) => utc.with_timezone(&zone).format(LOCAL_FORMAT).to_string(),
        None => utc.format(LOCAL_FORMAT).to_string(),
    }
}

/// A `datetime-local` value read in `zone` (UTC when `None`), or an RFC 3339 instant.
pub fn parse_form_instant(text: &str, zone: Option<Tz>) -> Option<i64> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.timestamp());
    }
    let naive = NaiveDateTime::parse_from_str(text, LOCAL_FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    match zone {
        Some(zone) => zone
            .from_local_datetime(&naive)
            .earliest()
            .map(|at| at.timestamp()),
        None => Some(naive.and_utc().timestamp()),
    }
}

/// A number that fits field `name`, for its error.
fn number_example(name: &str) -> &'static str {
    match name {
        "latitude" => "50.7339",
        "longitude" => "7.0982",
        _ => "5000 or 1250.50",
    }
}

/// Event times are entered in the venue's zone; everything else in UTC.
fn is_venue_time(field: &str) -> bool {
    matches!(field, "starts_at" | "ends_at")
}

/// A pasted target area: `[[lon, lat], ...]`, or GeoJSON (a Polygon, or a
/// Feature holding one; the outer ring counts).
pub fn parse_area(text: &str) -> Option<Vec<Point>> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let ring = match &value {
        serde_json::Value::Array(_) => &value,
        serde_json::Value::Object(object) => {
            let geometry = if object.get("type").and_then(|t| t.as_str()) == Some("Feature") {
                object.get("geometry")?
            } else {
                &value
            };
            if geometry.get("type").and_then(|t| t.as_str()) != Some("Polygon") {
                return None;
            }
            geometry.get("coordinates")?.get(0)?
        }
        _ => return None,
    };
    ring.as_array()?
        .iter()
        .map(|point| match point.as_array()?.as_slice() {
            [lon, lat] => Some([lon.as_f64()?, lat.as_f64()?]),
            _ => None,
        })
        .collect()
}

/// Content typed as plain text (no tags) becomes paragraphs; HTML is kept
/// as written (the domain sanitizes it).
pub fn content_html(text: &str) -> String {
    if text.contains('<') {
        return text.to_string();
    }
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .map(|paragraph| format!("<p>{}</p>", escape_html(paragraph).replace('\n', "<br>")))
        .collect()
}

/// The field that lists the languages to translate into: the form's
/// choice of a language to add, where errors about the list show.
pub const TRANSLATIONS: &str = "translations";

/// The languages the form has a translation into (some of its inputs), in order.
pub fn translation_codes<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let codes: std::collections::BTreeSet<&str> = names
        .filter_map(|name| translation_field(name).map(|(code, _)| code))
        .collect();
    codes.into_iter().map(str::to_string).collect()
}

/// The translations of a form, as typed: empty optional texts are none,
/// plain text becomes paragraphs as the main text does (the domain checks
/// the rest).
fn translations_of(form: &Form) -> Translations {
    translation_codes(form.pairs.iter().map(|(name, _)| name.as_str()))
        .into_iter()
        .map(|code| {
            let text = |part: &str| form.text(&translation_name(&code, part)).to_string();
            let optional = |part: &str| {
                form.optional(&translation_name(&code, part))
                    .map(str::to_string)
            };
            let translation = Translation {
                title: text("title"),
                content: content_html(&text("content")),
                call_to_action: optional("call_to_action"),
                image_alt: optional("image_alt"),
            };
            (code, translation)
        })
        .collect()
}

/// The inputs of stored translations, and no language chosen to add.
fn translation_values(translations: &Translations, values: &mut HashMap<String, String>) {
    for (code, translation) in translations {
        for (part, value) in [
            ("title", translation.title.as_str()),
            ("content", translation.content.as_str()),
            (
                "call_to_action",
                translation.call_to_action.as_deref().unwrap_or_default(),
            ),
            (
                "image_alt",
                translation.image_alt.as_deref().unwrap_or_default(),
            ),
        ] {
            values.insert(translation_name(code, part), value.to_string());
        }
    }
    values.insert(TRANSLATIONS.to_string(), String::new());
}

/// A form field of each kind of `with_entry_fields!` as a patch.
macro_rules! parse_field {
    (text, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        Some($form.text($name).to_string())
    };
    (html, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        Some($form.text($name).to_string())
    };
    (line, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        Some($form.optional($name).map(str::to_string))
    };
    (instant, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        match $form.optional($name) {
            None => Some(None),
            Some(text) => {
                match parse_form_instant(text, if is_venue_time($name) { $zone } else { None }) {
                    Some(instant) => Some(Some(instant)),
                    None => {
                        $check.fail($name, "must be a date and time such as 2027-03-04T18:00");
                        None
                    }
                }
            }
        }
    };
    (number, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        match $form.optional($name) {
            None => Some(None),
            Some(text) => match text.replace(',', ".").parse::<f64>() {
                Ok(number) if number.is_finite() => Some(Some(number)),
                _ => {
                    $check.fail(
                        $name,
                        format!("must be a number such as {}", number_example($name)),
                    );
                    None
                }
            },
        }
    };
    (area, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        match $form.optional($name) {
            None => Some(None),
            Some(text) => match parse_area(text) {
                Some(points) => Some(Some(points)),
                None => {
                    $check.fail(
                        $name,
                        "must be a list of [lon, lat] points or a GeoJSON Polygon",
                    );
                    None
                }
            },
        }
    };
    (list, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        Some(list_lines($form.text($name)).map(str::to_string).collect())
    };
    (moves, $form:expr, $name:expr, $zone:expr, $check:expr) => {{
        let mut moves = std::collections::BTreeMap::new();
        for line in list_lines($form.text($name)) {
            match line.split_once("->") {
                Some((from, to)) => {
                    moves.insert(from.trim().to_string(), to.trim().to_string());
                }
                None => $check.fail(
                    $name,
                    "write one move per line: 2027-03-18T18:30 -> 2027-03-25T19:00",
                ),
            }
        }
        Some(moves)
    }};
    (translations, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        Some(translations_of($form))
    };
    (reference, $form:expr, $name:expr, $zone:expr, $check:expr) => {
        match $form.optional($name) {
            None => Some(None),
            Some(text) => match text.parse::<i64>() {
                Ok(id) => Some(Some(id)),
                Err(_) => {
                    $check.fail($name, "must be one of the saved areas");
                    None
                }
            },
        }
    };
}

/// A stored field of each kind as the text its input shows.
macro_rules! field_value {
    (text, $value:expr, $zone:expr) => {
        $value.clone()
    };
    (html, $value:expr, $zone:expr) => {
        $value.clone()
    };
    (line, $value:expr, $zone:expr) => {
        $value.clone().unwrap_or_default()
    };
    (instant, $value:expr, $zone:expr) => {
        $value.map(|t| local_value(t, $zone)).unwrap_or_default()
    };
    (number, $value:expr, $zone:expr) => {
        $value.map(|n| n.to_string()).unwrap_or_default()
    };
    (area, $value:expr, $zone:expr) => {
        $value
            .as_ref()
            .and_then(|points| serde_json::to_string(points).ok())
            .unwrap_or_default()
    };
    (reference, $value:expr, $zone:expr) => {
        $value.map(|id| id.to_string()).unwrap_or_default()
    };
    (list, $value:expr, $zone:expr) => {
        $value.join("\n")
    };
    (moves, $value:expr, $zone:expr) => {
        $value
            .iter()
            .map(|(from, to)| format!("{from} -> {to}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
}

/// Puts a stored field of each kind into a form's values: one input, or
/// (translations) four inputs per language and the empty "add" choice.
macro_rules! insert_value {
    (translations, $values:expr, $name:expr, $value:expr, $zone:expr) => {
        translation_values(&$value, &mut $values)
    };
    ($kind:ident, $values:expr, $name:expr, $value:expr, $zone:expr) => {
        $values.insert($name.to_string(), field_value!($kind, $value, $zone))
    };
}

/// The non-empty lines (or comma-separated items) of a list input.
fn list_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|line| !line.is_empty())
}

macro_rules! entry_form {
    (
        common: [$($common_kind:ident $common:ident $common_doc:literal),* $(,)?],
        kind: [$($kind_kind:ident $kind:ident $kind_doc:literal),* $(,)?] $(,)?
    ) => {
        /// The entry fields of a form as a patch, and what could not be read.
        pub fn entry_patch(form: &Form) -> (EntryPatch, Vec<FieldError>) {
            let zone = form.optional("timezone").and_then(|name| name.parse::<Tz>().ok());
            let mut check = Checker::new();
            let mut patch = EntryPatch {
                $($common: parse_field!($common_kind, form, stringify!($common), zone, check),)*
                $($kind: parse_field!($kind_kind, form, stringify!($kind), zone, check),)*
            };
            patch.content = patch.content.map(|content| content_html(&content));
            // The plain repeat choices, when the form has them.
            if form.has("repeat") {
                let starts_at = patch.starts_at.flatten();
                patch.recurrence = Some(super::recurrence_form::rule(form, starts_at, zone.unwrap_or(Tz::UTC)));
            }
            (patch, check.finish().err().unwrap_or_default())
        }

        /// The inputs' values for stored `fields` (event times in the venue's zone).
        pub fn entry_values(fields: &EntryFields) -> HashMap<String, String> {
            let venue = fields.timezone.as_deref().and_then(|name| name.parse::<Tz>().ok());
            let mut values = HashMap::new();
            $(insert_value!(
                $common_kind, values, stringify!($common), fields.$common,
                if is_venue_time(stringify!($common)) { venue } else { None }
            );)*
            $(insert_value!(
                $kind_kind, values, stringify!($kind), fields.$kind,
                if is_venue_time(stringify!($kind)) { venue } else { None }
            );)*
            // A stored rule shows as the advanced choice, with its text.
            let repeat = if fields.recurrence.is_some() { "rule" } else { "" };
            values.insert("repeat".to_string(), repeat.to_string());
            values
        }
    };
}

with_entry_fields!(entry_form);

/// The entry form's fields from top to bottom (templates/my/form.html).
pub const ENTRY_FORM_ORDER: &[&str] = &[
    "group",
    "title",
    "content",
    "url",
    "call_to_action",
    "image_file",
    "image_remove",
    "image",
    "image_alt",
    "timezone",
    "starts_at",
    "ends_at",
    "location_name",
    "latitude",
    "longitude",
    "attendance",
    "online_url",
    "event_status",
    "repeat",
    "repeat_interval",
    "repeat_count",
    "repeat_until",
    "recurrence",
    "exdates",
    "moved_occurrences",
    "goal_amount",
    "currency",
    "deadline",
    "raised_amount",
    "language",
    "target_area_id",
    "target_area",
    "publish_from",
    "publish_to",
    "translations",
];

/// Entry form errors as the form shows its fields, top to bottom, so the
/// summary reads like the page; fields it does not show come last.
pub fn in_entry_form_order(errors: &mut [FieldError]) {
    errors.sort_by_key(|error| {
        // A translation's texts are in the translations' part.
        let field = if translation_field(&error.field).is_some() {
            TRANSLATIONS
        } else {
            error.field.as_str()
        };
        ENTRY_FORM_ORDER
            .iter()
            .position(|known| *known == field)
            .unwrap_or(ENTRY_FORM_ORDER.len())
    });
}

/// Field errors of a form that could not be fully read, completed with the
/// domain's own verdict on the rest (so every error shows at once).
pub fn all_errors(
    kind: EntryKind,
    patch: EntryPatch,
    base: &EntryFields,
    parse_errors: Vec<FieldError>,
    content_max_chars: usize,
) -> Vec<FieldError> {
    let mut fields = base.clone();
    fields.apply(patch);
    let mut errors = parse_errors;
    if let Err(more) = crate::domain::entry::validate(kind, &mut fields, content_max_chars) {
        for error in more {
            if !errors.iter().any(|known| known.field == error.field) {
                errors.push(error);
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(
            safe_next("/my/entries?status=draft"),
            "/my/entries?status=draft"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "",
            "javascript:x",
            "/\nx",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn event_times_are_read_in_the_venue_zone() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let at = parse_form_instant("2027-03-04T18:00", Some(berlin)).unwrap();
        assert_eq!(local_value(at, None), "2027-03-04T17:00");
        assert_eq!(local_value(at, Some(berlin)), "2027-03-04T18:00");
        assert_eq!(
            parse_form_instant("2027-03-04T18:00:00Z", Some(berlin)),
            Some(at + 3600)
        );
        assert_eq!(parse_form_instant("soon", None), None);
    }

    #[test]
    fn the_entry_form_order_is_the_templates() {
        let template = include_str!("../../templates/my/form.html");
        // Fields are named by the macros' `(form, "name"` and by `error("name")`.
        let mut shown: Vec<&str> = Vec::new();
        for rest in template
            .split("(form, \"")
            .flat_map(|part| part.split("error(\""))
            .skip(1)
        {
            let name = rest.split('"').next().unwrap_or_default();
            if !shown.contains(&name) {
                shown.push(name);
            }
        }
        assert_eq!(shown, ENTRY_FORM_ORDER);
        let mut errors = vec![
            FieldError::new("publish_to", "x"),
            FieldError::new("ends_at", "x"),
            FieldError::new("version", "x"),
            FieldError::new("translations.fr.title", "x"),
            FieldError::new("title", "x"),
        ];
        in_entry_form_order(&mut errors);
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "ends_at",
                "publish_to",
                "translations.fr.title",
                "version"
            ]
        );
    }

    #[test]
    fn translations_go_both_ways_between_form_and_fields() {
        let fields = EntryFields {
            title: "Treffen".into(),
            translations: Translations::from([(
                "fr".to_string(),
                Translation {
                    title: "Rencontre".into(),
                    content: "<p>Salut</p>".into(),
                    call_to_action: None,
                    image_alt: Some("Une carte".into()),
                },
            )]),
            ..EntryFields::default()
        };
        let values = entry_values(&fields);
        assert_eq!(values["translations.fr.title"], "Rencontre");
        assert_eq!(values["translations.fr.call_to_action"], "");
        assert_eq!(values["translations"], "");
        let (patch, errors) = entry_patch(&Form::from_values(&values));
        assert_eq!(errors, []);
        assert_eq!(patch.translations, Some(fields.translations));
        // Plain text typed in a translation becomes paragraphs, as the main text does.
        let typed =
            Form::parse(b"translations.de.title=Hallo&translations.de.content=Eins%0A%0AZwei");
        let parsed = entry_patch(&typed).0.translations.unwrap();
        assert_eq!(parsed["de"].content, "<p>Eins</p><p>Zwei</p>");
    }

    #[test]
    fn areas_come_as_points_or_geojson() {
        let points = "[[0,0],[10,0],[10,10]]";
        let polygon = r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]]]}"#;
        let feature = format!(r#"{{"type":"Feature","properties":{{}},"geometry":{polygon}}}"#);
        assert_eq!(parse_area(points).map(|p| p.len()), Some(3));
        assert_eq!(parse_area(polygon).map(|p| p.len()), Some(4));
        assert_eq!(parse_area(&feature).map(|p| p.len()), Some(4));
        assert_eq!(parse_area(r#"{"type":"Point","coordinates":[1,2]}"#), None);
        assert_eq!(parse_area("[[1]]"), None);
    }

    #[test]
    fn plain_text_becomes_paragraphs() {
        assert_eq!(
            content_html("One <b>\n\nTwo\nlines"),
            "One <b>\n\nTwo\nlines"
        );
        assert_eq!(
            content_html("One & two\n\nThree\nfour"),
            "<p>One &amp; two</p><p>Three<br>four</p>"
        );
    }
}
