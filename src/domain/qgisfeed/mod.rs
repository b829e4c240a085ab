//! Reading a QGIS-Feed dump (`manage.py dumpdata qgisfeed auth.user`): the
//! records it holds and what each becomes here. No database: the service
//! stores what [`parse_dump`] returns.
//!
//! A dump is a JSON array of `{"model", "pk", "fields"}`. Entries keep their
//! pk as their id (QGIS desktop caches news by pk). Every row QGIS-Feed's
//! model can hold is imported, with a note where it differs; only a dump
//! that is not one (not such an array, a value no field of the model can
//! hold, a pk twice) is refused, with the model, pk and reason.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::Value;

use super::user::normalize_email;
use super::{Action, Role, limits};

mod entry;
pub mod ewkt;
mod records;

pub use entry::{DumpEntry, life_cycle};
pub use records::{
    AREA_MODEL, DAILY_MODEL, DailyCount, DumpArea, DumpRevision, GROUP_MODEL, REVISION_MODEL,
};

pub const USER_MODEL: &str = "auth.user";
pub const ENTRY_MODEL: &str = "qgisfeed.qgisfeedentry";
pub const REVIEW_MODEL: &str = "qgisfeed.feedentryreview";

/// Where accounts without an address get one (never deliverable: an admin
/// gives them a real one before they can reset their password).
const NO_EMAIL_DOMAIN: &str = "qgisfeed.invalid";

/// A dump that is not one: the whole import stops.
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
    /// Its groups and own permissions (who approves).
    grants: records::Grants,
}

impl DumpUser {
    /// `pk N`, or the username of a user dumped without pks.
    pub fn label(&self) -> String {
        self.pk
            .map_or_else(|| self.username.clone(), |pk| format!("pk {pk}"))
    }

    /// Whether `user` names this account.
    pub fn is(&self, user: &UserRef) -> bool {
        match user {
            UserRef::Pk(pk) => self.pk == Some(*pk),
            UserRef::Username(name) => &self.username == name,
        }
    }
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
    /// Why it is not imported as QGIS-Feed holds it.
    pub note: Option<String>,
}

/// Everything in a dump that is imported, and what is not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dump {
    pub users: Vec<DumpUser>,
    pub entries: Vec<DumpEntry>,
    pub reviews: Vec<DumpReview>,
    pub revisions: Vec<DumpRevision>,
    pub areas: Vec<DumpArea>,
    /// QGIS-Feed's daily visit counts, summed by day, dimension and our value.
    pub daily: Vec<DailyCount>,
    /// Records of other models, counted by model.
    pub skipped: BTreeMap<String, u64>,
    /// Report lines of records around the entries not imported as held.
    pub notes: Vec<String>,
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
    #[serde(flatten)]
    grants: records::Grants,
}

fn yes() -> bool {
    true
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

/// Reads a whole dump; the first record that is not one stops it.
pub fn parse_dump(bytes: &[u8]) -> Result<Dump, RecordError> {
    let records: Vec<RawRecord> = serde_json::from_slice(bytes).map_err(|error| RecordError {
        model: "dump".into(),
        pk: "-".into(),
        reason: format!("not a JSON array of {{model, pk, fields}}: {error}"),
    })?;
    let mut dump = Dump::default();
    let mut reading = Reading::default();
    let mut seen = HashSet::new();
    for record in records {
        let fail = |reason: String| RecordError {
            model: record.model.clone(),
            pk: record.pk.to_string(),
            reason,
        };
        if KEYED_MODELS.contains(&record.model.as_str()) {
            // With --natural-primary, users have no pk: their username is their key.
            let key = match (&record.pk, record.fields.get("username")) {
                (Value::Null, Some(username)) => username.to_string(),
                (pk, _) => pk.to_string(),
            };
            if !seen.insert((record.model.clone(), key)) {
                return Err(fail(
                    "duplicate pk: the dump holds this record twice".into(),
                ));
            }
        }
        add_record(&mut dump, &mut reading, &record).map_err(fail)?;
    }
    dump.daily = records::daily_counts(reading.days);
    // Reviewers and approvers are the moderators of QGIS-Feed.
    let reviewers: Vec<UserRef> = dump.reviews.iter().map(|r| r.reviewer.clone()).collect();
    for user in &mut dump.users {
        let approver = match reading.groups.approver(&user.grants) {
            Ok(approver) => approver,
            Err(unknown) => {
                let unknown: Vec<String> = unknown.iter().map(i64::to_string).collect();
                dump.notes.push(format!(
                    "{USER_MODEL} {}: not known as an approver because its auth.group {} is not in \
                     the dump (dump auth.group too)",
                    user.label(),
                    unknown.join(", ")
                ));
                false
            }
        };
        if user.role == Role::Member && (approver || reviewers.iter().any(|r| user.is(r))) {
            user.role = Role::Moderator;
        }
    }
    Ok(dump)
}

/// Records with a key of their own: twice is a broken dump.
const KEYED_MODELS: [&str; 7] = [
    USER_MODEL,
    ENTRY_MODEL,
    REVIEW_MODEL,
    GROUP_MODEL,
    REVISION_MODEL,
    AREA_MODEL,
    DAILY_MODEL,
];

/// What is gathered while reading and settled at the end.
#[derive(Default)]
struct Reading {
    groups: records::Groups,
    days: BTreeMap<(String, crate::domain::StatsDimension, String), i64>,
}

/// `record` read into `dump`.
fn add_record(dump: &mut Dump, reading: &mut Reading, record: &RawRecord) -> Result<(), String> {
    let pk = || record.pk.as_i64().ok_or("pk is not a number");
    match record.model.as_str() {
        USER_MODEL => dump
            .users
            .push(user(record.pk.as_i64(), fields(record.fields.clone())?)),
        ENTRY_MODEL => {
            let pk = entry_pk(&record.pk)?;
            dump.entries
                .push(entry::entry(pk, fields(record.fields.clone())?)?);
        }
        REVIEW_MODEL => dump
            .reviews
            .push(review(pk()?, fields(record.fields.clone())?)?),
        GROUP_MODEL => reading.groups.add(pk()?, fields(record.fields.clone())?),
        REVISION_MODEL => dump
            .revisions
            .push(records::revision(pk()?, fields(record.fields.clone())?)?),
        AREA_MODEL => {
            let raw = fields(record.fields.clone())?;
            if let Some(area) = records::area(pk()?, raw, &mut dump.notes)? {
                dump.areas.push(area);
            }
        }
        DAILY_MODEL => records::add_daily(
            pk()?,
            fields(record.fields.clone())?,
            &mut reading.days,
            &mut dump.notes,
        )?,
        other => *dump.skipped.entry(other.to_string()).or_default() += 1,
    }
    Ok(())
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

/// `<username>@qgisfeed.invalid`, in the characters an address may hold;
/// `user<pk>@…` when none of the username's are.
fn invented_email(pk: Option<i64>, username: &str) -> String {
    let local: String = username
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        .collect();
    let local = match local.trim_matches('.') {
        "" => format!(
            "user{}",
            pk.map_or_else(|| stable_hash(username), |pk| pk.to_string())
        ),
        local => local.to_string(),
    };
    format!("{local}@{NO_EMAIL_DOMAIN}")
}

/// FNV-1a of `text` in hex: the same on every run (a username without a pk
/// keeps its invented address when the dump is imported again).
fn stable_hash(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn user(pk: Option<i64>, raw: RawUser) -> DumpUser {
    let (email, has_email) = match normalize_email("email", &raw.email) {
        Ok(email) => (email, true),
        Err(_) => (invented_email(pk, &raw.username), false),
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
        grants: raw.grants,
    }
}

/// What a QGIS-Feed review can do (`feedentryreview.action`).
const REVIEW_ACTIONS: [Action; 4] = [
    Action::Approve,
    Action::RequestChanges,
    Action::Comment,
    Action::Reject,
];

fn review(pk: i64, raw: RawReview) -> Result<DumpReview, String> {
    // QGIS-Feed's review actions are named as ours are.
    let known = Action::parse(&raw.action).filter(|action| REVIEW_ACTIONS.contains(action));
    let (action, note) = match known {
        Some(action) => (action, None),
        None => (
            Action::Comment,
            Some(format!(
                "action {:?} is unknown: recorded as a comment",
                raw.action
            )),
        ),
    };
    Ok(DumpReview {
        note,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EntryStatus;

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
    fn only_a_dump_that_is_not_one_is_refused() {
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
        let twice = serde_json::json!([
            entry_record(5, serde_json::json!({})),
            entry_record(5, serde_json::json!({"title": "Other"})),
        ]);
        assert_eq!(
            dump(twice).unwrap_err().to_string(),
            "qgisfeed.qgisfeedentry pk 5: duplicate pk: the dump holds this record twice"
        );
        assert!(dump(serde_json::json!([entry_record(0, serde_json::json!({}))])).is_err());
        assert!(dump(serde_json::json!({"not": "an array"})).is_err());
        // A row our rules refuse is imported, with a note.
        let parsed = dump(serde_json::json!([entry_record(
            3,
            serde_json::json!({"url": "ftp://x", "language_filter": "xx", "publish_from": "2019-05-05"})
        )]))
        .unwrap();
        assert_eq!(parsed.entries[0].status, EntryStatus::Draft);
        assert_eq!(
            parsed.entries[0].notes.len(),
            2,
            "{:?}",
            parsed.entries[0].notes
        );
    }

    #[test]
    fn accounts_without_a_usable_username_get_an_address_from_their_pk() {
        assert_eq!(invented_email(Some(7), "Ada.L"), "ada.l@qgisfeed.invalid");
        assert_eq!(invented_email(Some(7), "Дмитрий"), "user7@qgisfeed.invalid");
        assert_eq!(
            invented_email(None, "Дмитрий"),
            invented_email(None, "Дмитрий")
        );
        assert_ne!(
            invented_email(None, "Дмитрий"),
            invented_email(None, "Ольга")
        );
    }
}
