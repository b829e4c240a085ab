//! The records around QGIS-Feed's entries: its permission groups (who
//! approves), entry revisions (history), saved spatial filters (our saved
//! areas) and the daily visit counts (our daily statistics).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::{RawUserRef, UserRef, ewkt, parse_dump_instant, user_ref};
use crate::domain::area::{self, AreaFields};
use crate::domain::audience::label_of;
use crate::domain::validate::quoted;
use crate::domain::{StatsDimension, limits};

pub const GROUP_MODEL: &str = "auth.group";
pub const REVISION_MODEL: &str = "qgisfeed.feedentryrevision";
pub const AREA_MODEL: &str = "qgisfeed.savedspatialfilter";
pub const DAILY_MODEL: &str = "qgisfeed.dailyqgisuservisit";

/// The group QGIS-Feed creates for approvers, and the permission it gives
/// them (its `signals.py`).
const APPROVER_GROUP: &str = "qgisfeedentry_approver";
const PUBLISH_PERMISSION: &str = "publish_qgisfeedentry";

/// A group or permission as the dump names it: by pk, or by its natural key
/// with `--natural-foreign` (`["name"]`, `["codename", "app", "model"]`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub(super) enum RawKey {
    Pk(i64),
    Natural(Vec<String>),
}

impl RawKey {
    fn first_name(&self) -> Option<&str> {
        match self {
            Self::Pk(_) => None,
            Self::Natural(key) => key.first().map(String::as_str),
        }
    }
}

/// What makes an account an approver: its groups and own permissions.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub(super) struct Grants {
    #[serde(default)]
    pub groups: Vec<RawKey>,
    #[serde(default)]
    pub user_permissions: Vec<RawKey>,
}

/// An `auth.group`: its name and permissions.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub(super) struct RawGroup {
    name: String,
    #[serde(default)]
    permissions: Vec<RawKey>,
}

impl RawGroup {
    fn approves(&self) -> bool {
        self.name == APPROVER_GROUP
            || self
                .permissions
                .iter()
                .any(|permission| permission.first_name() == Some(PUBLISH_PERMISSION))
    }
}

/// The groups of the dump by pk and by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Groups {
    by_pk: BTreeMap<i64, RawGroup>,
}

impl Groups {
    pub fn add(&mut self, pk: i64, group: RawGroup) {
        self.by_pk.insert(pk, group);
    }

    /// Whether `grants` make an approver; `Err` names the groups the dump
    /// does not hold (then nobody can tell).
    pub fn approver(&self, grants: &Grants) -> Result<bool, Vec<i64>> {
        let mut unknown = Vec::new();
        let mut approves = grants
            .user_permissions
            .iter()
            .any(|permission| permission.first_name() == Some(PUBLISH_PERMISSION));
        for group in &grants.groups {
            match group {
                RawKey::Natural(_) => {
                    let named =
                        |candidate: &RawGroup| Some(candidate.name.as_str()) == group.first_name();
                    approves |= group.first_name() == Some(APPROVER_GROUP)
                        || self
                            .by_pk
                            .values()
                            .any(|known| named(known) && known.approves());
                }
                RawKey::Pk(pk) => match self.by_pk.get(pk) {
                    Some(known) => approves |= known.approves(),
                    None => unknown.push(*pk),
                },
            }
        }
        match (approves, unknown.is_empty()) {
            (true, _) | (false, true) => Ok(approves),
            (false, false) => Err(unknown),
        }
    }
}

/// A `qgisfeed.feedentryrevision`: an edit in an entry's history.
#[derive(Clone, Debug, PartialEq)]
pub struct DumpRevision {
    pub pk: i64,
    pub entry: i64,
    pub user: UserRef,
    /// What the history says: the change summary, or the title then.
    pub comment: String,
    /// `{label: [old, new]}` from `field_changes` (migration 0017 on).
    pub changes: Option<String>,
    pub changed_at: i64,
}

#[derive(Deserialize)]
pub(super) struct RawRevision {
    entry: i64,
    user: RawUserRef,
    #[serde(default)]
    title: String,
    #[serde(default)]
    change_summary: String,
    changed_at: String,
    /// A list of `{label, old, new}`; absent before migration 0017.
    #[serde(default)]
    field_changes: Value,
}

pub(super) fn revision(pk: i64, raw: RawRevision) -> Result<DumpRevision, String> {
    let summary = raw.change_summary.trim();
    let comment = if summary.is_empty() {
        format!("Edited on QGIS-Feed (title then: {})", quoted(&raw.title))
    } else {
        summary.to_string()
    };
    let changes: serde_json::Map<String, Value> = raw
        .field_changes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|change| {
            let label = change.get("label")?.as_str()?;
            let pair = [
                change.get("old").cloned().unwrap_or(Value::Null),
                change.get("new").cloned().unwrap_or(Value::Null),
            ];
            Some((label.to_string(), Value::from(pair.to_vec())))
        })
        .collect();
    Ok(DumpRevision {
        pk,
        entry: raw.entry,
        user: user_ref(raw.user).map_err(|reason| format!("user: {reason}"))?,
        comment: truncated(&comment, limits::SHORT_TEXT_CHARS),
        changes: (!changes.is_empty()).then(|| Value::Object(changes).to_string()),
        changed_at: parse_dump_instant(&raw.changed_at)
            .map_err(|reason| format!("changed_at: {reason}"))?,
    })
}

fn truncated(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// A `qgisfeed.savedspatialfilter` as one of our saved areas.
#[derive(Clone, Debug, PartialEq)]
pub struct DumpArea {
    pub pk: i64,
    pub user: UserRef,
    /// Validated.
    pub fields: AreaFields,
    pub created_at: i64,
}

#[derive(Deserialize)]
pub(super) struct RawArea {
    user: RawUserRef,
    name: String,
    #[serde(default)]
    description: String,
    geometry: String,
    created_at: String,
}

/// The area, or why it cannot be one (a report line, the row is not
/// imported: an area without its polygon would target nobody or everybody);
/// notes say what was converted.
pub(super) fn area(
    pk: i64,
    raw: RawArea,
    notes: &mut Vec<String>,
) -> Result<Option<DumpArea>, String> {
    let user = user_ref(raw.user).map_err(|reason| format!("user: {reason}"))?;
    let created_at =
        parse_dump_instant(&raw.created_at).map_err(|reason| format!("created_at: {reason}"))?;
    let line = |text: String| format!("{AREA_MODEL} pk {pk}: {text}");
    let parsed = match ewkt::parse_area(&raw.geometry) {
        Ok(parsed) => parsed,
        Err(reason) => {
            notes.push(line(format!(
                "not imported because its geometry {}: {reason}",
                quoted(&raw.geometry)
            )));
            return Ok(None);
        }
    };
    if let Some(how) = parsed.converted {
        notes.push(line(format!("imported, geometry {how}")));
    }
    let mut fields = AreaFields {
        name: raw.name,
        description: raw.description.replace(['\r', '\n'], " "),
        polygon: parsed.ring,
    };
    if fields.description.chars().count() > limits::SHORT_TEXT_CHARS {
        fields.description = truncated(&fields.description, limits::SHORT_TEXT_CHARS);
        notes.push(line(format!(
            "imported, description cut to {} characters",
            limits::SHORT_TEXT_CHARS
        )));
    }
    if let Err(errors) = area::validate(&mut fields) {
        let reasons: Vec<String> = errors
            .iter()
            .map(|error| format!("{} {}", error.field, error.message))
            .collect();
        notes.push(line(format!("not imported because {}", reasons.join("; "))));
        return Ok(None);
    }
    Ok(Some(DumpArea {
        pk,
        user,
        fields,
        created_at,
    }))
}

/// One day's count of one value, as `feed_daily_stats` holds it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DailyCount {
    pub day: String,
    pub dimension: StatsDimension,
    pub value: String,
    pub requests: i64,
}

#[derive(Deserialize)]
pub(super) struct RawDaily {
    date: String,
    #[serde(default)]
    qgis_version: Value,
    #[serde(default)]
    platform: Value,
    #[serde(default)]
    country: Value,
}

/// Adds a `dailyqgisuservisit` to `days` (keyed by day, dimension, value).
/// QGIS-Feed leaves visits without a version out of `qgis_version` but
/// counts every visit under `platform`: the difference is counted as
/// version `unknown`, so a day's versions add up to its total as ours do.
pub(super) fn add_daily(
    pk: i64,
    raw: RawDaily,
    days: &mut BTreeMap<(String, StatsDimension, String), i64>,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    let day = chrono::NaiveDate::parse_from_str(raw.date.trim(), "%Y-%m-%d")
        .map_err(|_| format!("date: {} is not a date", quoted(&raw.date)))?
        .format("%Y-%m-%d")
        .to_string();
    let mut totals = [0_i64; 2];
    for (dimension, counts, total) in [
        (StatsDimension::Version, &raw.qgis_version, Some(0)),
        (StatsDimension::Os, &raw.platform, Some(1)),
        (StatsDimension::Country, &raw.country, None),
    ] {
        let Some(counts) = counts.as_object() else {
            notes.push(format!(
                "{DAILY_MODEL} pk {pk}: {} not counted because it is not an object of counts",
                dimension.as_str()
            ));
            continue;
        };
        for (raw_value, count) in counts {
            let Some(count) = count.as_i64().filter(|count| *count >= 0) else {
                notes.push(format!(
                    "{DAILY_MODEL} pk {pk}: {} {} not counted because {count} is not a count",
                    dimension.as_str(),
                    quoted(raw_value)
                ));
                continue;
            };
            let value = label_of(dimension, raw_value);
            *days.entry((day.clone(), dimension, value)).or_default() += count;
            if let Some(index) = total {
                totals[index] += count;
            }
        }
    }
    let [versions, visits] = totals;
    if visits > versions {
        *days
            .entry((day, StatsDimension::Version, "unknown".into()))
            .or_default() += visits - versions;
    }
    Ok(())
}

/// The counts of `days`, in day order.
pub(super) fn daily_counts(
    days: BTreeMap<(String, StatsDimension, String), i64>,
) -> Vec<DailyCount> {
    days.into_iter()
        .map(|((day, dimension, value), requests)| DailyCount {
            day,
            dimension,
            value,
            requests,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, permissions: Vec<RawKey>) -> RawGroup {
        RawGroup {
            name: name.into(),
            permissions,
        }
    }

    #[test]
    fn approvers_are_found_by_group_or_permission() {
        let mut groups = Groups::default();
        groups.add(1, group("qgisfeedentry_authors", vec![]));
        groups.add(2, group(APPROVER_GROUP, vec![RawKey::Pk(40)]));
        groups.add(
            3,
            group(
                "editors",
                vec![RawKey::Natural(vec![
                    PUBLISH_PERMISSION.into(),
                    "qgisfeed".into(),
                    "qgisfeedentry".into(),
                ])],
            ),
        );
        let grants = |groups: Vec<RawKey>| Grants {
            groups,
            user_permissions: vec![],
        };
        assert_eq!(groups.approver(&grants(vec![RawKey::Pk(1)])), Ok(false));
        assert_eq!(groups.approver(&grants(vec![RawKey::Pk(2)])), Ok(true));
        assert_eq!(groups.approver(&grants(vec![RawKey::Pk(3)])), Ok(true));
        assert_eq!(
            groups.approver(&grants(vec![RawKey::Natural(vec![APPROVER_GROUP.into()])])),
            Ok(true)
        );
        assert_eq!(
            groups.approver(&grants(vec![RawKey::Natural(vec!["editors".into()])])),
            Ok(true)
        );
        assert_eq!(
            groups.approver(&grants(vec![RawKey::Pk(1), RawKey::Pk(9)])),
            Err(vec![9])
        );
        let direct = Grants {
            groups: vec![],
            user_permissions: vec![RawKey::Natural(vec![PUBLISH_PERMISSION.into()])],
        };
        assert_eq!(Groups::default().approver(&direct), Ok(true));
    }

    #[test]
    fn daily_visits_become_our_labels_and_add_up() {
        let mut days = BTreeMap::new();
        let mut notes = Vec::new();
        let raw: RawDaily = serde_json::from_value(serde_json::json!({"date": "2024-01-01",
            "qgis_version": {"33600": 3, "33601": 1}, "platform": {"Windows 10": 4, "Ubuntu": 2},
            "country": {"ID": 2, "de": "x"}}))
        .unwrap();
        add_daily(1, raw, &mut days, &mut notes).unwrap();
        let counts = daily_counts(days);
        let find = |dimension: StatsDimension, value: &str| {
            counts
                .iter()
                .find(|count| count.dimension == dimension && count.value == value)
                .map(|count| count.requests)
        };
        assert_eq!(find(StatsDimension::Version, "3.36"), Some(4));
        assert_eq!(find(StatsDimension::Version, "unknown"), Some(2));
        assert_eq!(find(StatsDimension::Os, "windows"), Some(4));
        assert_eq!(find(StatsDimension::Os, "linux"), Some(2));
        assert_eq!(find(StatsDimension::Country, "ID"), Some(2));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("country \"de\""), "{notes:?}");
    }

    #[test]
    fn revisions_keep_their_field_changes() {
        let raw: RawRevision =
            serde_json::from_value(serde_json::json!({"entry": 4, "user": ["ale"],
            "title": "Old", "change_summary": "", "changed_at": "2026-01-02T03:04:05.678",
            "field_changes": [{"label": "Title", "old": "Old", "new": "New"}]}))
            .unwrap();
        let revision = revision(7, raw).unwrap();
        assert_eq!(revision.user, UserRef::Username("ale".into()));
        assert_eq!(
            revision.comment,
            "Edited on QGIS-Feed (title then: \"Old\")"
        );
        assert_eq!(
            revision.changes.as_deref(),
            Some(r#"{"Title":["Old","New"]}"#)
        );
    }
}
