//! `newsfeed import-qgisfeed`: a QGIS-Feed dump into this database, in one
//! transaction, keeping every entry's pk as its id. Re-running it updates
//! what changed and duplicates nothing.
//!
//! Pictures are read from QGIS-Feed's media directory and re-encoded through
//! the image pipeline before the transaction starts (their files are content
//! addressed; if the import fails, the sweep removes the ones no row names).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionTrait, TryIntoModel,
};

use super::entries::set_fields;
use super::{Services, archive, areas, groups, lookup, media, stats, users};
use crate::domain::entry::{LiveRevision, search_text};
use crate::domain::group::{GroupFields, check_slug};
use crate::domain::qgisfeed::{
    self, AREA_MODEL, DAILY_MODEL, DumpEntry, DumpUser, ENTRY_MODEL, REVIEW_MODEL, REVISION_MODEL,
    USER_MODEL, UserRef,
};
use crate::domain::user::email_skeleton;
use crate::domain::validate::Checker;
use crate::domain::{Action, EntryKind, EntryStatus, GroupRole, GroupStatus};
use crate::entities::{entry, entry_event, membership};
use crate::error::{AppError, AppResult};
use crate::media::Picture;

/// The group entries go to unless told otherwise.
pub const DEFAULT_GROUP: &str = "qgis-org";
/// Rows per insert statement.
const BATCH: usize = 500;
/// Progress line every this many entries.
const PROGRESS_EVERY: usize = 1000;

/// What to import into.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Slug of the group the entries belong to (created if missing).
    pub group: String,
    /// QGIS-Feed's `MEDIA_ROOT`, where `image` paths are relative to.
    pub media_dir: Option<PathBuf>,
}

/// Created, updated and unchanged rows of one model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl std::fmt::Display for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} unchanged",
            self.created, self.updated, self.unchanged
        )
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QgisFeedReport {
    pub group_created: bool,
    /// `auth.user`: created, or found by email (`unchanged`: never overwritten).
    pub users: Outcomes,
    /// Accounts that had no email address (given `<username>@qgisfeed.invalid`).
    pub users_without_email: u64,
    pub entries: Outcomes,
    pub reviews: Outcomes,
    /// `qgisfeed.feedentryrevision`, as edits in the entries' history.
    pub revisions: Outcomes,
    /// `qgisfeed.savedspatialfilter`, as saved areas.
    pub areas: Outcomes,
    /// Days and counts of `qgisfeed.dailyqgisuservisit` written to the statistics.
    pub daily_days: u64,
    pub daily_counts: u64,
    pub images_stored: u64,
    /// Entries whose picture file is not in the media directory.
    pub images_missing: Vec<i64>,
    /// Entries whose picture the pipeline refused, with the reason.
    pub images_refused: Vec<(i64, String)>,
    /// Records of other models, by model.
    pub skipped: BTreeMap<String, u64>,
    /// One line per row not imported exactly as QGIS-Feed holds it:
    /// `<model> pk N: imported as <state> because <reason>`.
    pub rows: Vec<String>,
}

impl QgisFeedReport {
    /// One line per model and outcome, for standard output.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "{USER_MODEL}: {} ({} without an email address)",
                self.users, self.users_without_email
            ),
            format!("{ENTRY_MODEL}: {}", self.entries),
            format!("{REVIEW_MODEL}: {}", self.reviews),
            format!("{REVISION_MODEL}: {}", self.revisions),
            format!("{AREA_MODEL}: {}", self.areas),
            format!(
                "{DAILY_MODEL}: {} days, {} counts (each replaces what was counted for its day and value)",
                self.daily_days, self.daily_counts
            ),
            format!(
                "images: {} stored, {} missing{}, {} refused{}",
                self.images_stored,
                self.images_missing.len(),
                pks(self.images_missing.iter().copied()),
                self.images_refused.len(),
                pks(self.images_refused.iter().map(|(pk, _)| *pk)),
            ),
        ];
        for (model, count) in &self.skipped {
            lines.push(format!("{model}: {count} skipped"));
        }
        lines.extend(self.rows.iter().cloned());
        lines
    }
}

/// Pks listed in a report line; more are counted, not listed.
const LISTED_PKS: usize = 20;

fn pks(pks: impl ExactSizeIterator<Item = i64>) -> String {
    let total = pks.len();
    let list: Vec<String> = pks.take(LISTED_PKS).map(|pk| pk.to_string()).collect();
    match total {
        0 => String::new(),
        _ if total > LISTED_PKS => {
            format!(" (pk {} and {} more)", list.join(", "), total - LISTED_PKS)
        }
        _ => format!(" (pk {})", list.join(", ")),
    }
}

fn bad(error: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(error.to_string())
}

/// Imports `dump`; `progress` hears what is going on (standard error).
pub async fn import(
    services: &Services,
    dump: &[u8],
    options: &ImportOptions,
    progress: &mut impl FnMut(&str),
) -> AppResult<QgisFeedReport> {
    let mut check = Checker::new();
    check_slug(&mut check, "--group", &options.group);
    check.finish()?;
    let dump = qgisfeed::parse_dump(dump).map_err(bad)?;
    progress(&format!(
        "read {} users, {} entries, {} reviews, {} revisions, {} areas, {} daily counts",
        dump.users.len(),
        dump.entries.len(),
        dump.reviews.len(),
        dump.revisions.len(),
        dump.areas.len(),
        dump.daily.len(),
    ));
    check_references(&dump)?;
    let mut report = QgisFeedReport {
        skipped: dump.skipped.clone(),
        users_without_email: dump.users.iter().filter(|u| !u.has_email).count() as u64,
        rows: row_notes(&dump),
        ..QgisFeedReport::default()
    };
    let pictures = pictures(services, &dump.entries, options, &mut report, progress).await?;

    let now = services.now();
    let txn = services.db.begin().await?;
    let group = import_group(&txn, &options.group, now, &mut report).await?;
    let authors: HashSet<&UserRef> = dump.entries.iter().map(|entry| &entry.author).collect();
    let people = import_users(&txn, &dump.users, &authors, group.id, now, &mut report).await?;
    let user_of = |user: &UserRef| -> AppResult<&(i64, String)> {
        dump.users
            .iter()
            .position(|candidate| candidate.is(user))
            .and_then(|index| people.get(index))
            .ok_or_else(|| bad(format!("no auth.user {user:?} in the dump")))
    };
    for picture in pictures.values().flatten() {
        media::record_picture(&txn, services, picture, None).await?;
    }

    let mut events = import_entries(
        &txn,
        &dump.entries,
        &pictures,
        group.id,
        &user_of,
        now,
        &mut report,
        progress,
    )
    .await?;
    archive::move_sequence(&txn, "entries").await?;

    events.extend(import_around_entries(&txn, &dump, &user_of, &mut report).await?);
    for chunk in events.chunks(BATCH) {
        entry_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    progress("committed; telling the feeds");
    services.live.changed().await;
    Ok(report)
}

/// What surrounds the entries: reviews and revisions as history lines
/// (returned), saved areas and daily statistics (stored).
async fn import_around_entries<'a>(
    txn: &impl ConnectionTrait,
    dump: &'a qgisfeed::Dump,
    user_of: &impl Fn(&UserRef) -> AppResult<&'a (i64, String)>,
    report: &mut QgisFeedReport,
) -> AppResult<Vec<entry_event::ActiveModel>> {
    let reviews = dump.reviews.iter().map(|review| HistoryItem {
        entry: review.entry,
        actor: &review.reviewer,
        action: review.action,
        comment: &review.comment,
        changes: None,
        at: review.created_at,
    });
    let mut events = import_history(txn, dump, reviews, user_of, &mut report.reviews).await?;
    let revisions = dump.revisions.iter().map(|revision| HistoryItem {
        entry: revision.entry,
        actor: &revision.user,
        action: Action::Edit,
        comment: &revision.comment,
        changes: revision.changes.as_deref(),
        at: revision.changed_at,
    });
    let revised = import_history(txn, dump, revisions, user_of, &mut report.revisions).await?;
    events.extend(revised);
    for area in &dump.areas {
        let (owner, _) = user_of(&area.user)?;
        let stored = areas::store_imported(txn, &area.fields, *owner, area.created_at).await?;
        let outcomes = &mut report.areas;
        match stored {
            areas::Stored::Created => outcomes.created += 1,
            areas::Stored::Updated => outcomes.updated += 1,
            areas::Stored::Unchanged => outcomes.unchanged += 1,
        }
    }
    stats::replace(txn, &dump.daily).await?;
    report.daily_counts = dump.daily.len() as u64;
    report.daily_days = dump
        .daily
        .iter()
        .map(|count| &count.day)
        .collect::<HashSet<_>>()
        .len() as u64;
    Ok(events)
}

/// The group the entries go to, created when it does not exist yet.
async fn import_group(
    db: &impl ConnectionTrait,
    slug: &str,
    now: i64,
    report: &mut QgisFeedReport,
) -> AppResult<crate::entities::group::Model> {
    match lookup::group_by_slug(db, slug).await {
        Ok(group) => Ok(group),
        Err(AppError::NotFound(_)) => {
            report.group_created = true;
            let fields = GroupFields {
                slug: slug.to_string(),
                name: slug.to_string(),
                ..GroupFields::default()
            };
            groups::insert(db, fields, GroupStatus::Active, now).await
        }
        Err(error) => Err(error),
    }
}

/// Creates or updates every entry of the dump (unchanged ones are left
/// alone) and returns the history lines that say so.
#[allow(clippy::too_many_arguments)]
async fn import_entries<'a>(
    txn: &impl ConnectionTrait,
    entries: &[DumpEntry],
    pictures: &HashMap<String, Option<Picture>>,
    group_id: i64,
    user_of: &impl Fn(&UserRef) -> AppResult<&'a (i64, String)>,
    now: i64,
    report: &mut QgisFeedReport,
    progress: &mut impl FnMut(&str),
) -> AppResult<Vec<entry_event::ActiveModel>> {
    let existing = existing_entries(txn, entries).await?;
    let mut inserts = Vec::new();
    let mut events = Vec::new();
    for (index, dumped) in entries.iter().enumerate() {
        let (author_id, author_name) = user_of(&dumped.author)?;
        let image = dumped
            .image_path
            .as_ref()
            .and_then(|path| pictures.get(path))
            .and_then(|picture| picture.as_ref())
            .map(|picture| crate::domain::media::media_path(&picture.hash))
            .unwrap_or_default();
        let old = existing.get(&dumped.pk);
        if let Some(old) = old.filter(|old| old.group_id != group_id) {
            return Err(bad(format!(
                "{ENTRY_MODEL} pk {}: id {} is taken by an entry of another group (id {}) here",
                dumped.pk, old.id, old.group_id
            )));
        }
        let active = row(dumped, group_id, *author_id, image, old)?;
        let action = match old {
            None => {
                report.entries.created += 1;
                inserts.push(active);
                Action::Create
            }
            Some(old) => {
                let mut new = active
                    .clone()
                    .try_into_model()
                    .map_err(|error| AppError::internal("incomplete entry row", error))?;
                new.version = old.version;
                if &new == old {
                    report.entries.unchanged += 1;
                    continue;
                }
                report.entries.updated += 1;
                entry::Entity::update(active).exec(txn).await?;
                Action::Edit
            }
        };
        events.push(event(
            dumped.pk,
            (*author_id, author_name),
            action,
            dumped.status,
            "imported from QGIS-Feed",
            if action == Action::Create {
                dumped.created
            } else {
                now
            },
        ));
        if inserts.len() >= BATCH {
            entry::Entity::insert_many(std::mem::take(&mut inserts))
                .exec_without_returning(txn)
                .await?;
        }
        if (index + 1) % PROGRESS_EVERY == 0 {
            progress(&format!("entries: {} of {}", index + 1, entries.len()));
        }
    }
    if !inserts.is_empty() {
        entry::Entity::insert_many(inserts)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(events)
}

/// The report lines of the entries and reviews that differ from QGIS-Feed's.
fn row_notes(dump: &qgisfeed::Dump) -> Vec<String> {
    let entries = dump
        .entries
        .iter()
        .flat_map(|entry| entry.notes.iter().map(|reason| entry_line(entry, reason)));
    let reviews = dump.reviews.iter().filter_map(|review| {
        let reason = review.note.as_ref()?;
        Some(format!(
            "{REVIEW_MODEL} pk {}: imported as {} because {reason}",
            review.pk, review.action
        ))
    });
    entries
        .chain(reviews)
        .chain(dump.notes.iter().cloned())
        .collect()
}

fn entry_line(entry: &DumpEntry, reason: &str) -> String {
    format!(
        "{ENTRY_MODEL} pk {}: imported as {} because {reason}",
        entry.pk, entry.status
    )
}

/// Every author and reviewer is a user of the dump, every review is of an entry of it.
fn check_references(dump: &qgisfeed::Dump) -> AppResult<()> {
    let known = |user: &UserRef| dump.users.iter().any(|candidate| candidate.is(user));
    for entry in &dump.entries {
        if !known(&entry.author) {
            return Err(bad(format!(
                "{ENTRY_MODEL} pk {}: author {:?} is not in the dump (dump auth.user too)",
                entry.pk, entry.author
            )));
        }
    }
    let entries: HashSet<i64> = dump.entries.iter().map(|entry| entry.pk).collect();
    for review in &dump.reviews {
        if !entries.contains(&review.entry) {
            return Err(bad(format!(
                "{REVIEW_MODEL} pk {}: entry {} is not in the dump",
                review.pk, review.entry
            )));
        }
        if !known(&review.reviewer) {
            return Err(bad(format!(
                "{REVIEW_MODEL} pk {}: reviewer {:?} is not in the dump",
                review.pk, review.reviewer
            )));
        }
    }
    for revision in &dump.revisions {
        if !entries.contains(&revision.entry) {
            return Err(bad(format!(
                "{REVISION_MODEL} pk {}: entry {} is not in the dump",
                revision.pk, revision.entry
            )));
        }
        if !known(&revision.user) {
            return Err(bad(format!(
                "{REVISION_MODEL} pk {}: user {:?} is not in the dump",
                revision.pk, revision.user
            )));
        }
    }
    if let Some(area) = dump.areas.iter().find(|area| !known(&area.user)) {
        return Err(bad(format!(
            "{AREA_MODEL} pk {}: user {:?} is not in the dump",
            area.pk, area.user
        )));
    }
    Ok(())
}

/// The processed picture of every image path, `None` where it is missing
/// or refused (reported); files are written to the store.
async fn pictures(
    services: &Services,
    entries: &[DumpEntry],
    options: &ImportOptions,
    report: &mut QgisFeedReport,
    progress: &mut impl FnMut(&str),
) -> AppResult<HashMap<String, Option<Picture>>> {
    let mut pictures: HashMap<String, Option<Picture>> = HashMap::new();
    for entry in entries {
        let Some(path) = &entry.image_path else {
            continue;
        };
        let missing = |report: &mut QgisFeedReport| {
            report.images_missing.push(entry.pk);
            let reason = format!("its picture {path} is missing: imported without it");
            report.rows.push(entry_line(entry, &reason));
        };
        let refused = |report: &mut QgisFeedReport, why: String| {
            let reason = format!("its picture {path} was refused ({why}): imported without it");
            report.rows.push(entry_line(entry, &reason));
            report.images_refused.push((entry.pk, why));
        };
        if let Some(known) = pictures.get(path) {
            match known {
                Some(_) => report.images_stored += 1,
                None => missing(report),
            }
            continue;
        }
        let Some(file) = options
            .media_dir
            .as_deref()
            .and_then(|dir| inside(dir, path))
        else {
            missing(report);
            pictures.insert(path.clone(), None);
            continue;
        };
        let bytes = match tokio::fs::read(&file).await {
            Ok(bytes) => bytes,
            Err(error) => {
                match error.kind() {
                    std::io::ErrorKind::NotFound => missing(report),
                    // Unreadable is as good as missing: the entry comes without it.
                    _ => refused(report, format!("cannot read it: {error}")),
                }
                pictures.insert(path.clone(), None);
                continue;
            }
        };
        match media::process(move || Ok(bytes)).await? {
            Ok(picture) => {
                media::save_picture(services, &picture).await?;
                report.images_stored += 1;
                pictures.insert(path.clone(), Some(picture));
            }
            Err(refusal) => {
                progress(&format!(
                    "{ENTRY_MODEL} pk {}: picture {path} refused: {refusal}",
                    entry.pk
                ));
                refused(report, refusal.to_string());
                pictures.insert(path.clone(), None);
            }
        }
    }
    if !report.images_missing.is_empty() {
        let all: Vec<String> = report.images_missing.iter().map(i64::to_string).collect();
        progress(&format!(
            "images missing for {} entries (pk {})",
            all.len(),
            all.join(", ")
        ));
    }
    Ok(pictures)
}

/// `dir/path`, unless `path` would leave `dir`.
fn inside(dir: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
        .then(|| dir.join(relative))
}

/// The accounts of the dump, in its order, as `(user id, display name)`:
/// found by email, or created without a password (they set one through a
/// password reset). Authors become editors of the group.
async fn import_users(
    db: &impl ConnectionTrait,
    dumped: &[DumpUser],
    authors: &HashSet<&UserRef>,
    group_id: i64,
    now: i64,
    report: &mut QgisFeedReport,
) -> AppResult<Vec<(i64, String)>> {
    let members: HashSet<i64> = membership::Entity::find()
        .filter(membership::Column::GroupId.eq(group_id))
        .all(db)
        .await?
        .into_iter()
        .map(|member| member.user_id)
        .collect();
    let mut people = Vec::with_capacity(dumped.len());
    let mut joined = HashSet::new();
    // Which dump user each account was first found or created for.
    let mut first_of: HashMap<i64, String> = HashMap::new();
    for user in dumped {
        let account = match same_address(db, &user.email).await? {
            Some(existing) => {
                report.users.unchanged += 1;
                let looks = if existing.email == user.email {
                    format!("the same address {}", existing.email)
                } else {
                    format!("an address that looks the same as {}", existing.email)
                };
                let into = match first_of.get(&existing.id) {
                    Some(earlier) => Some(format!("{USER_MODEL} {earlier}")),
                    None => (existing.email != user.email)
                        .then(|| format!("the account {} here", existing.email)),
                };
                if let Some(into) = into {
                    report.rows.push(format!(
                        "{USER_MODEL} {}: merged into {into} because {looks}",
                        user.label()
                    ));
                }
                existing
            }
            None => {
                report.users.created += 1;
                let account = users::NewAccount {
                    email: user.email.clone(),
                    display_name: user.display_name.clone(),
                    password_hash: String::new(),
                    role: user.role,
                };
                let created =
                    users::insert(db, account, now)
                        .await
                        .map_err(|error| match error {
                            AppError::Duplicate(taken) => {
                                AppError::Duplicate(format!("auth.user {}: {taken}", user.username))
                            }
                            other => other,
                        })?;
                if user.disabled {
                    let mut active: crate::entities::user::ActiveModel = created.clone().into();
                    active.disabled = Set(true);
                    active.update(db).await?
                } else {
                    created
                }
            }
        };
        first_of.entry(account.id).or_insert_with(|| user.label());
        let authored = authors.iter().any(|author| user.is(author));
        if authored && !members.contains(&account.id) && joined.insert(account.id) {
            groups::insert_membership(db, account.id, group_id, GroupRole::Editor, now).await?;
        }
        people.push((account.id, account.display_name));
    }
    Ok(people)
}

/// The account with `email`, or with one that looks the same.
async fn same_address(
    db: &impl ConnectionTrait,
    email: &str,
) -> AppResult<Option<crate::entities::user::Model>> {
    if let Some(account) = lookup::user_by_email(db, email).await? {
        return Ok(Some(account));
    }
    Ok(crate::entities::user::Entity::find()
        .filter(crate::entities::user::Column::EmailSkeleton.eq(email_skeleton(email)))
        .one(db)
        .await?)
}

/// The rows among `entries`' pks that exist already.
async fn existing_entries(
    db: &impl ConnectionTrait,
    entries: &[DumpEntry],
) -> AppResult<HashMap<i64, entry::Model>> {
    let mut existing = HashMap::new();
    for chunk in entries.chunks(BATCH) {
        let rows = entry::Entity::find()
            .filter(entry::Column::Id.is_in(chunk.iter().map(|entry| entry.pk)))
            .all(db)
            .await?;
        existing.extend(rows.into_iter().map(|row| (row.id, row)));
    }
    Ok(existing)
}

/// The whole row of an imported entry (a new version of `old`, if any).
fn row(
    dumped: &DumpEntry,
    group_id: i64,
    author_id: i64,
    image: String,
    old: Option<&entry::Model>,
) -> AppResult<entry::ActiveModel> {
    let mut fields = dumped.fields.clone();
    fields.image = image;
    let ever_published = matches!(
        dumped.status,
        EntryStatus::Approved | EntryStatus::Unpublished
    );
    let live = ever_published
        .then(|| {
            serde_json::to_string(&LiveRevision {
                kind: EntryKind::Announcement,
                sticky: dumped.sticky,
                priority: dumped.priority,
                fields: fields.clone(),
            })
        })
        .transpose()
        .map_err(|error| AppError::internal("cannot store the live revision", error))?;
    let in_review = matches!(
        dumped.status,
        EntryStatus::Pending | EntryStatus::ChangesRequested
    );
    let mut active = entry::ActiveModel {
        id: Set(dumped.pk),
        group_id: Set(group_id),
        author_id: Set(author_id),
        kind: Set(EntryKind::Announcement),
        status: Set(dumped.status),
        version: Set(old.map_or(1, |old| old.version + 1)),
        sticky: Set(dumped.sticky),
        priority: Set(dumped.priority),
        live_publish_to: Set(live.as_ref().and(fields.publish_to)),
        live_search: Set(live.as_ref().map(|_| search_text(&fields))),
        // QGIS-Feed has no saved areas: its polygons come inline.
        live_target_area_id: Set(None),
        live_revision: Set(live),
        in_feed: Set(dumped.status == EntryStatus::Approved),
        live_changed_at: Set(ever_published.then_some(dumped.modified)),
        live_sequence: Set(old.map_or(0, |old| old.live_sequence)),
        retracted_at: Set((dumped.status == EntryStatus::Unpublished).then_some(dumped.modified)),
        submitted_at: Set(in_review.then_some(dumped.modified)),
        created_at: Set(dumped.created),
        updated_at: Set(dumped.modified),
        ..Default::default()
    };
    set_fields(&mut active, fields);
    Ok(active)
}

fn event(
    entry_id: i64,
    (actor_id, actor_name): (i64, &str),
    action: Action,
    to: EntryStatus,
    comment: &str,
    at: i64,
) -> entry_event::ActiveModel {
    entry_event::ActiveModel {
        entry_id: Set(entry_id),
        actor_user_id: Set(Some(actor_id)),
        actor_token_id: Set(None),
        actor_name: Set(actor_name.to_string()),
        action: Set(action),
        from_status: Set(None),
        to_status: Set(Some(to)),
        comment: Set(Some(comment.to_string())),
        changes: Set(None),
        created_at: Set(at),
        ..Default::default()
    }
}

/// A line of an entry's history from QGIS-Feed: a review or a revision.
struct HistoryItem<'a> {
    entry: i64,
    actor: &'a UserRef,
    action: Action,
    comment: &'a str,
    changes: Option<&'a str>,
    at: i64,
}

/// History lines for the items not imported before (same entry, time,
/// action and comment).
async fn import_history<'a>(
    db: &impl ConnectionTrait,
    dump: &'a qgisfeed::Dump,
    items: impl Iterator<Item = HistoryItem<'a>>,
    user_of: &impl Fn(&UserRef) -> AppResult<&'a (i64, String)>,
    outcomes: &mut Outcomes,
) -> AppResult<Vec<entry_event::ActiveModel>> {
    let items: Vec<HistoryItem> = items.collect();
    let mut seen = HashSet::new();
    let touched: Vec<i64> = items.iter().map(|item| item.entry).collect();
    for chunk in touched.chunks(BATCH) {
        let rows = entry_event::Entity::find()
            .filter(entry_event::Column::EntryId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        seen.extend(rows.into_iter().map(|row| {
            (
                row.entry_id,
                row.created_at,
                row.action,
                row.comment.unwrap_or_default(),
            )
        }));
    }
    let status: HashMap<i64, EntryStatus> = dump
        .entries
        .iter()
        .map(|entry| (entry.pk, entry.status))
        .collect();
    let mut events = Vec::new();
    for item in items {
        if !seen.insert((item.entry, item.at, item.action, item.comment.to_string())) {
            outcomes.unchanged += 1;
            continue;
        }
        outcomes.created += 1;
        let (actor_id, actor_name) = user_of(item.actor)?;
        let to = status
            .get(&item.entry)
            .copied()
            .unwrap_or(EntryStatus::Pending);
        let mut line = event(
            item.entry,
            (*actor_id, actor_name),
            item.action,
            to,
            item.comment,
            item.at,
        );
        line.changes = Set(item.changes.map(str::to_string));
        events.push(line);
    }
    Ok(events)
}
