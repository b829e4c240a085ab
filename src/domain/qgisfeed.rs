//! Reading a QGIS-Feed dump (`manage.py dumpdata qgisfeed auth.user`): the
//! records it holds and what each becomes here. No database: the service
//! stores what [`parse_dump`] returns.
//!
//! A dump is a JSON array of `{"model", "pk", "fields"}`. Entries keep their
//! pk as their id (QGIS desktop caches news by pk); a record that cannot be
//! read is refused with its model, pk and the reason.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::Value;

use super::entry::{EntryFields, validate};
use super::geo::Point;
use super::user::normalize_email;
use super::{Action, EntryKind, EntryStatus, Role, limits};

pub const USER_MODEL: &str = "auth.user";
pub const ENTRY_MODEL: &str = "qgisfeed.qgisfeedentry";
pub const REVIEW_MODEL: &str = "qgisfeed.feedentryreview";

/// Where accounts without an address get one (never deliverable: an admin
/// gives them a real one before they can reset their password).
const NO_EMAIL_DOMAIN: &str = "qgisfeed.invalid";

/// A record that cannot be imported: the whole import stops.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{model} pk {pk}: {reason}")]
pub struct RecordError {
    pub model: String,
    pub pk: String,
    pub reason: String,
}

/// A user as the dump names it: by pk, or by username with `--natural-foreign`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserRef {
    Pk(i64),
    Username(String),
}

/// An `auth.user`.
#[derive(Clone, Debug, PartialEq)]
pub struct DumpUser {
    pub pk: Option<i64>,
    pub username: String,
    /// Normalized; `<username>@qgisfeed.invalid` when the account had none.
    pub email: String,
    pub has_email: bool,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
}

impl DumpUser {
    /// Whether `user` names this account.
    pub fn is(&self, user: &UserRef) -> bool {
        match user {
            UserRef::Pk(pk) => self.pk == Some(*pk),
            UserRef::Username(name) => &self.username == name,
        }
    }
}

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
}

/// A `qgisfeed.feedentryreview`: a line of the entry's history.
#[derive(Clone, Debug, PartialEq)]
pub struct DumpReview {
    pub pk: i64,
    pub entry: i64,
    pub reviewer: UserRef,
    pub action: Action,
    pub comment: String,
    pub created_at: i64,
}

/// Everything in a dump that is imported, and what is not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dump {
    pub users: Vec<DumpUser>,
    pub entries: Vec<DumpEntry>,
    pub reviews: Vec<DumpReview>,
    /// Records of other models, counted by model.
    pub skipped: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct RawRecord {
    model: String,
    #[serde(default)]
    pk: Value,
    #[serde(default)]
    fields: Value,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawUserRef {
    Pk(i64),
    Natural(Vec<String>),
}

#[derive(Deserialize)]
struct RawUser {
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    is_superuser: bool,
    #[serde(default = "yes")]
    is_active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct RawEntry {
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

#[derive(Deserialize)]
struct RawReview {
    entry: i64,
    reviewer: RawUserRef,
    #[serde(default)]
    comment: String,
    action: String,
    created_at: String,
}

/// Reads a whole dump; the first record that cannot be imported stops it.
pub fn parse_dump(bytes: &[u8]) -> Result<Dump, RecordError> {
    let records: Vec<RawRecord> = serde_json::from_slice(bytes).map_err(|error| RecordError {
        model: "dump".into(),
        pk: "-".into(),
        reason: format!("not a JSON array of {{model, pk, fields}}: {error}"),
    })?;
    let mut dump = Dump::default();
    for record in records {
        let fail = |reason: String| RecordError {
            model: record.model.clone(),
            pk: record.pk.to_string(),
            reason,
        };
        match record.model.as_str() {
            USER_MODEL => dump.users.push(user(
                record.pk.as_i64(),
                fields(record.fields.clone()).map_err(fail)?,
            )),
            ENTRY_MODEL => {
                let pk = entry_pk(&record.pk).map_err(fail)?;
                let raw = fields(record.fields.clone()).map_err(fail)?;
                dump.entries.push(entry(pk, raw).map_err(fail)?);
            }
            REVIEW_MODEL => {
                let pk = record
                    .pk
                    .as_i64()
                    .ok_or_else(|| fail("pk is not a number".into()))?;
                let raw = fields(record.fields.clone()).map_err(fail)?;
                dump.reviews.push(review(pk, raw).map_err(fail)?);
            }
            other => *dump.skipped.entry(other.to_string()).or_default() += 1,
        }
    }
    // Reviewers are the moderators of QGIS-Feed.
    let reviewers: Vec<UserRef> = dump.reviews.iter().map(|r| r.reviewer.clone()).collect();
    for user in &mut dump.users {
        if user.role == Role::Member && reviewers.iter().any(|r| user.is(r)) {
            user.role = Role::Moderator;
        }
    }
    Ok(dump)
}

fn fields<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        if path == "." {
            error.inner().to_string()
        } else {
            format!("{path}: {}", error.inner())
        }
    })
}

fn entry_pk(pk: &Value) -> Result<i64, String> {
    pk.as_i64()
        .filter(|pk| (1..=limits::MAX_PK).contains(pk))
        .ok_or_else(|| format!("pk must be a number from 1 to {}", limits::MAX_PK))
}

fn user_ref(raw: RawUserRef) -> Result<UserRef, String> {
    match raw {
        RawUserRef::Pk(pk) => Ok(UserRef::Pk(pk)),
        RawUserRef::Natural(mut key) if key.len() == 1 => Ok(UserRef::Username(key.remove(0))),
        RawUserRef::Natural(_) => Err("a user is named by pk or [username]".into()),
    }
}

fn user(pk: Option<i64>, raw: RawUser) -> DumpUser {
    let (email, has_email) = match normalize_email("email", &raw.email) {
        Ok(email) => (email, true),
        Err(_) => (
            format!(
                "{}@{NO_EMAIL_DOMAIN}",
                raw.username
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
                    .collect::<String>()
            ),
            false,
        ),
    };
    let full_name = format!("{} {}", raw.first_name.trim(), raw.last_name.trim());
    let display_name = match full_name.trim() {
        "" => raw.username.clone(),
        name => name.to_string(),
    };
    DumpUser {
        pk,
        display_name: display_name.chars().take(limits::NAME_CHARS).collect(),
        username: raw.username,
        email,
        has_email,
        role: if raw.is_superuser {
            Role::Admin
        } else {
            Role::Member
        },
        disabled: !raw.is_active,
    }
}

/// Our life cycle status for a QGIS-Feed entry. `published` is what its feed
/// reads, so it alone decides what is live; `status` says where the others
/// stand. QGIS-Feed's `approved` still waits for someone to publish it.
pub fn life_cycle(status: Option<&str>, published: bool) -> Result<EntryStatus, String> {
    if published {
        return Ok(EntryStatus::Approved);
    }
    match status {
        None | Some("draft") => Ok(EntryStatus::Draft),
        Some("pending_review" | "approved") => Ok(EntryStatus::Pending),
        Some("changes_requested") => Ok(EntryStatus::ChangesRequested),
        Some("rejected") => Ok(EntryStatus::Rejected),
        // Published once, not any more.
        Some("published") => Ok(EntryStatus::Unpublished),
        Some(other) => Err(format!("status: unknown status {other:?}")),
    }
}

fn entry(pk: i64, raw: RawEntry) -> Result<DumpEntry, String> {
    let status = life_cycle(raw.status.as_deref(), raw.published)?;
    let instant = |field: &str, value: Option<&str>| -> Result<Option<i64>, String> {
        value
            .filter(|text| !text.trim().is_empty())
            .map(|text| parse_dump_instant(text).map_err(|reason| format!("{field}: {reason}")))
            .transpose()
    };
    let created = instant("created", raw.created.as_deref())?;
    let modified = instant("modified", raw.modified.as_deref())?.or(created);
    let target_area = raw
        .spatial_filter
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(|text| parse_ewkt_polygon(text).map_err(|reason| format!("spatial_filter: {reason}")))
        .transpose()?;
    let mut fields = EntryFields {
        title: raw.title,
        content: raw.content,
        url: raw.url.unwrap_or_default(),
        language: raw.language_filter.filter(|code| !code.trim().is_empty()),
        target_area,
        call_to_action: raw.action_text.filter(|text| !text.trim().is_empty()),
        publish_from: instant("publish_from", raw.publish_from.as_deref())?,
        // A far-future end (QGIS 3.22 reads it as uint32) means no end.
        publish_to: instant("publish_to", raw.publish_to.as_deref())?
            .filter(|to| *to < limits::MAX_INSTANT),
        ..EntryFields::default()
    };
    // QGIS-Feed's operators may have raised its content limit: imported
    // text is not cut or refused for its length.
    validate(EntryKind::Announcement, &mut fields, usize::MAX).map_err(|errors| {
        errors
            .iter()
            .map(|error| format!("{}: {}", qgis_field(&error.field), error.message))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let priority = i32::try_from(raw.sorting).map_err(|_| "sorting: out of range".to_string())?;
    let created = created.or(modified).unwrap_or(0);
    Ok(DumpEntry {
        pk,
        author: user_ref(raw.author).map_err(|reason| format!("author: {reason}"))?,
        status,
        sticky: raw.sticky,
        priority,
        created,
        modified: modified.unwrap_or(created),
        image_path: raw.image.filter(|path| !path.trim().is_empty()),
        fields,
    })
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

fn review(pk: i64, raw: RawReview) -> Result<DumpReview, String> {
    let action = match raw.action.as_str() {
        "approve" => Action::Approve,
        "request_changes" => Action::RequestChanges,
        "comment" => Action::Comment,
        "reject" => Action::Reject,
        other => return Err(format!("action: unknown action {other:?}")),
    };
    Ok(DumpReview {
        pk,
        entry: raw.entry,
        reviewer: user_ref(raw.reviewer).map_err(|reason| format!("reviewer: {reason}"))?,
        action,
        comment: raw.comment,
        created_at: parse_dump_instant(&raw.created_at)
            .map_err(|reason| format!("created_at: {reason}"))?,
    })
}

/// Unix seconds of an ISO 8601 time as Django writes it: with `Z` or an
/// offset, without one (UTC), or a bare date (its midnight, UTC).
pub fn parse_dump_instant(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let normalized = text.replacen(' ', "T", 1);
    if let Ok(time) = DateTime::parse_from_rfc3339(&normalized) {
        return Ok(time.timestamp());
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(time.and_utc().timestamp());
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M") {
        return Ok(time.and_utc().timestamp());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp()));
    }
    Err(format!(
        "{} is not an ISO 8601 time (like 2019-05-05T16:29:08Z) or date",
        super::validate::quoted(text)
    ))
}

/// The outer ring of an EWKT polygon, `SRID=4326;POLYGON ((lon lat, ...))`
/// (the SRID may be absent; no other is accepted, nor holes).
pub fn parse_ewkt_polygon(text: &str) -> Result<Vec<Point>, String> {
    let text = text.trim();
    let wkt = match text.split_once(';') {
        Some((srid, rest)) => {
            if !srid.trim().eq_ignore_ascii_case("SRID=4326") {
                return Err(format!("{srid} is not SRID=4326 (lon/lat)"));
            }
            rest.trim()
        }
        None => text,
    };
    let body = wkt
        .get(..7)
        .filter(|head| head.eq_ignore_ascii_case("POLYGON"))
        .map(|_| wkt[7..].trim())
        .ok_or_else(|| "not a POLYGON".to_string())?;
    let inner = body
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .map(str::trim)
        .ok_or_else(|| "a POLYGON is written POLYGON ((lon lat, ...))".to_string())?;
    let ring = inner
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| "a POLYGON is written POLYGON ((lon lat, ...))".to_string())?;
    if ring.contains('(') || ring.contains(')') {
        return Err("polygons with holes are not supported".into());
    }
    ring.split(',')
        .map(|pair| {
            let numbers: Vec<f64> = pair
                .split_whitespace()
                .map(str::parse::<f64>)
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    format!("{} is not `lon lat`", super::validate::quoted(pair.trim()))
                })?;
            match numbers.as_slice() {
                [lon, lat, ..] if lon.is_finite() && lat.is_finite() => Ok([*lon, *lat]),
                _ => Err(format!(
                    "{} is not `lon lat`",
                    super::validate::quoted(pair.trim())
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_come_with_z_with_an_offset_without_one_or_as_a_date() {
        assert_eq!(
            parse_dump_instant("2019-05-05T16:29:08.136Z"),
            Ok(1_557_073_748)
        );
        assert_eq!(
            parse_dump_instant("2019-05-05T18:29:08+02:00"),
            Ok(1_557_073_748)
        );
        assert_eq!(parse_dump_instant("2019-05-05T16:29:08"), Ok(1_557_073_748));
        assert_eq!(
            parse_dump_instant("2019-05-05 16:29:08.5"),
            Ok(1_557_073_748)
        );
        assert_eq!(parse_dump_instant("2019-05-05"), Ok(1_557_014_400));
        assert!(
            parse_dump_instant("yesterday")
                .unwrap_err()
                .contains("ISO 8601")
        );
    }

    #[test]
    fn ewkt_polygons_become_lon_lat_rings() {
        assert_eq!(
            parse_ewkt_polygon("SRID=4326;POLYGON ((95 -11, 141 -11, 141 6, 95 -11))"),
            Ok(vec![
                [95.0, -11.0],
                [141.0, -11.0],
                [141.0, 6.0],
                [95.0, -11.0]
            ])
        );
        assert_eq!(
            parse_ewkt_polygon("POLYGON((0 0,1 0,1 1,0 0))").map(|ring| ring.len()),
            Ok(4)
        );
        assert!(parse_ewkt_polygon("SRID=3857;POLYGON ((0 0, 1 0, 1 1, 0 0))").is_err());
        assert!(parse_ewkt_polygon("POINT (1 2)").is_err());
        assert!(
            parse_ewkt_polygon("POLYGON ((0 0, 9 0, 9 9, 0 0), (1 1, 2 1, 2 2, 1 1))")
                .unwrap_err()
                .contains("holes")
        );
        assert!(parse_ewkt_polygon("POLYGON ((0 0, x 0, 1 1, 0 0))").is_err());
    }

    #[test]
    fn published_decides_what_is_live_and_status_the_rest() {
        assert_eq!(life_cycle(None, true), Ok(EntryStatus::Approved));
        assert_eq!(
            life_cycle(Some("published"), true),
            Ok(EntryStatus::Approved)
        );
        assert_eq!(life_cycle(None, false), Ok(EntryStatus::Draft));
        assert_eq!(
            life_cycle(Some("pending_review"), false),
            Ok(EntryStatus::Pending)
        );
        assert_eq!(
            life_cycle(Some("approved"), false),
            Ok(EntryStatus::Pending)
        );
        assert_eq!(
            life_cycle(Some("changes_requested"), false),
            Ok(EntryStatus::ChangesRequested)
        );
        assert_eq!(
            life_cycle(Some("rejected"), false),
            Ok(EntryStatus::Rejected)
        );
        assert_eq!(
            life_cycle(Some("published"), false),
            Ok(EntryStatus::Unpublished)
        );
        assert!(life_cycle(Some("archived"), false).is_err());
    }

    fn dump(records: Value) -> Result<Dump, RecordError> {
        parse_dump(records.to_string().as_bytes())
    }

    fn entry_record(pk: i64, fields: Value) -> Value {
        let mut base = serde_json::json!({
            "title": "News", "content": "<p>Hello</p>", "author": 1,
            "created": "2019-05-05", "modified": "2019-05-06T10:00:00Z", "published": true,
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), fields.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::json!({"model": ENTRY_MODEL, "pk": pk, "fields": base})
    }

    #[test]
    fn entries_map_onto_ours() {
        let parsed = dump(serde_json::json!([
            {"model": "auth.user", "pk": 1, "fields": {"username": "ale", "email": "Ale@Example.org",
             "first_name": "Ale", "last_name": "P", "is_superuser": false, "is_active": true}},
            {"model": "auth.user", "pk": 2, "fields": {"username": "rev", "email": ""}},
            {"model": "auth.permission", "pk": 1, "fields": {}},
            entry_record(7, serde_json::json!({"action_text": "Read more", "sorting": 3,
                "language_filter": "de", "url": null, "image": "feedimages/a.png",
                "publish_to": "2999-01-01T00:00:00Z",
                "spatial_filter": "SRID=4326;POLYGON ((0 0, 10 0, 10 10, 0 0))"})),
            {"model": REVIEW_MODEL, "pk": 1, "fields": {"entry": 7, "reviewer": 2,
             "comment": "ok", "action": "approve", "created_at": "2019-05-06T09:00:00+01:00"}},
        ]))
        .unwrap();
        assert_eq!(parsed.skipped.get("auth.permission"), Some(&1));
        let entry = &parsed.entries[0];
        assert_eq!(
            (entry.pk, entry.status, entry.priority),
            (7, EntryStatus::Approved, 3)
        );
        assert_eq!(entry.fields.call_to_action.as_deref(), Some("Read more"));
        assert_eq!(entry.fields.language.as_deref(), Some("de"));
        assert_eq!(entry.fields.publish_to, None);
        assert_eq!(entry.fields.target_area.as_ref().map(Vec::len), Some(4));
        assert_eq!(entry.image_path.as_deref(), Some("feedimages/a.png"));
        assert_eq!(
            (entry.created, entry.modified),
            (1_557_014_400, 1_557_136_800)
        );
        assert_eq!(parsed.users[0].email, "ale@example.org");
        assert_eq!(parsed.users[0].display_name, "Ale P");
        assert_eq!(parsed.users[0].role, Role::Member);
        assert_eq!(parsed.users[1].email, "rev@qgisfeed.invalid");
        assert_eq!(parsed.users[1].role, Role::Moderator);
        assert_eq!(parsed.reviews[0].created_at, 1_557_129_600);
    }

    #[test]
    fn a_bad_record_names_its_pk_and_field() {
        let error = dump(serde_json::json!([entry_record(
            9,
            serde_json::json!({"publish_from": "soon"})
        )]))
        .unwrap_err();
        assert_eq!(
            (error.model.as_str(), error.pk.as_str()),
            (ENTRY_MODEL, "9")
        );
        assert!(error.reason.starts_with("publish_from: "), "{error}");
        let error = dump(serde_json::json!([entry_record(
            3,
            serde_json::json!({"url": "ftp://x"})
        )]))
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("qgisfeed.qgisfeedentry pk 3: url: "),
            "{error}"
        );
        let error = dump(serde_json::json!([entry_record(
            4,
            serde_json::json!({"language_filter": "xx"})
        )]))
        .unwrap_err();
        assert!(error.reason.starts_with("language_filter: "), "{error}");
        assert!(dump(serde_json::json!([entry_record(0, serde_json::json!({}))])).is_err());
        assert!(dump(serde_json::json!({"not": "an array"})).is_err());
    }
}
