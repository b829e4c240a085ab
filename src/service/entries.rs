//! Entries and their life cycle: create, edit, submit, moderate, publish.
//!
//! The rules decide (`domain::lifecycle`); this module loads what they need
//! and stores their plan. Every transition runs in one transaction that also
//! writes an audit event, and only applies when the row still has the
//! version it was read at, so two people acting at once cannot both win.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set,
    TransactionTrait,
};
use serde_json::{Map, Value};

use super::{Services, areas, lookup, outbox, search};
use crate::domain::authz::Principal;
use crate::domain::entry::{
    EntryFields, EntryPatch, LiveRevision, PublishedRevision, changed_sentence, search_text,
    validate, with_entry_fields,
};
use crate::domain::lifecycle::{
    self, ActionRequest, EditPlan, EditRequest, Effect, EntryState, LiveChange, Plan, is_deletable,
    require_active_group,
};
use crate::domain::media::may_set_image;
use crate::domain::schedule::{self, Timing};
use crate::domain::search::SearchQuery;
use crate::domain::validate::Refusal;
use crate::domain::{Action, EntryKind, EntryStatus, Phase, limits};
use crate::entities::{entry, entry_event, entry_reviewer, group};
use crate::error::{AppError, AppResult};

/// An entry with the slug of its group, and the instant it is seen at.
#[derive(Clone, Debug)]
pub struct EntryView {
    pub entry: entry::Model,
    pub group_slug: String,
    pub timing: Timing,
}

impl EntryView {
    /// Where its published revision stands now (`None` when nothing is
    /// published), and the start of the event's next occurrence, as
    /// published if it is, else as edited.
    pub fn schedule(&self) -> (Option<Phase>, Option<i64>) {
        let published = live_revision_of(&self.entry)
            .ok()
            .flatten()
            .filter(|_| self.entry.in_feed);
        let phase = published.as_ref().map(|live| {
            schedule::phase(
                live.fields.publish_from,
                self.entry.live_publish_to,
                self.timing.now,
            )
        });
        let fields = published.map_or_else(|| fields_of(&self.entry), |live| live.fields);
        let occurrences = schedule::occurrences(&fields, self.timing.event_default_secs);
        let next =
            schedule::next_occurrence(&occurrences, self.timing.now).map(|next| next.starts_at);
        (phase, next)
    }
}

/// Filters for entry lists and the moderation queue.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    pub group: Option<String>,
    pub status: Option<EntryStatus>,
    pub kind: Option<EntryKind>,
    /// Two-letter languages (entries without a language match any); empty means all.
    pub languages: Vec<String>,
    /// Only the principal's own groups (all groups for admins), not
    /// everything a moderator may see.
    pub mine: bool,
    /// Only entries this person is assigned to review.
    pub assigned_to: Option<i64>,
    /// Only entries whose working revision (or group) matches these words.
    pub query: Option<SearchQuery>,
    pub limit: u64,
    pub offset: u64,
}

impl EntryFilter {
    /// Whether it keeps fewer entries than the condition it is added to.
    fn narrows(&self) -> bool {
        self.group.is_some()
            || self.status.is_some()
            || self.kind.is_some()
            || !self.languages.is_empty()
            || self.assigned_to.is_some()
            || self.query.is_some()
    }
}

/// A new entry: its group (by slug), kind and fields.
#[derive(Clone, Debug, Default)]
pub struct NewEntry {
    pub group: Option<String>,
    pub kind: Option<EntryKind>,
    /// Refused: versions are for updates.
    pub version: Option<i32>,
    pub patch: EntryPatch,
}

/// How a field kind of `with_entry_fields!` is stored in its column.
macro_rules! from_column {
    (area, $value:expr) => {
        $value
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
    };
    (list, $value:expr) => {
        from_column!(area, $value).unwrap_or_default()
    };
    (moves, $value:expr) => {
        from_column!(area, $value).unwrap_or_default()
    };
    (translations, $value:expr) => {
        from_column!(area, $value).unwrap_or_default()
    };
    ($kind:ident, $value:expr) => {
        $value.clone()
    };
}

macro_rules! to_column {
    (area, $value:expr) => {
        $value.and_then(|area| serde_json::to_string(&area).ok())
    };
    (list, $value:expr) => {
        (!$value.is_empty())
            .then(|| serde_json::to_string(&$value).ok())
            .flatten()
    };
    (moves, $value:expr) => {
        to_column!(list, $value)
    };
    (translations, $value:expr) => {
        to_column!(list, $value)
    };
    ($kind:ident, $value:expr) => {
        $value
    };
}

macro_rules! entry_columns {
    (
        common: [$($common_kind:ident $common:ident $common_doc:literal),* $(,)?],
        kind: [$($kind_kind:ident $kind:ident $kind_doc:literal),* $(,)?] $(,)?
    ) => {
        /// The working revision stored in an entry row.
        pub fn fields_of(model: &entry::Model) -> EntryFields {
            EntryFields {
                $($common: from_column!($common_kind, model.$common),)*
                $($kind: from_column!($kind_kind, model.$kind),)*
            }
        }

        pub(super) fn set_fields(active: &mut entry::ActiveModel, fields: EntryFields) {
            active.working_search = Set(Some(search_text(&fields)));
            $(active.$common = Set(to_column!($common_kind, fields.$common));)*
            $(active.$kind = Set(to_column!($kind_kind, fields.$kind));)*
        }
    };
}

with_entry_fields!(entry_columns);

/// The last approved revision of a row, if it was ever approved.
pub fn live_revision_of(model: &entry::Model) -> AppResult<Option<LiveRevision>> {
    model
        .live_revision
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|error| AppError::internal("unreadable live revision", error))
}

/// An entry loaded with what the rules need to judge it.
struct LoadedEntry {
    entry: entry::Model,
    group: EntryGroup,
    fields: EntryFields,
    live: Option<LiveRevision>,
}

/// What an entry's rules read of its group.
struct EntryGroup {
    id: i64,
    slug: String,
    status: crate::domain::GroupStatus,
}

impl From<group::Model> for EntryGroup {
    fn from(group: group::Model) -> Self {
        Self {
            id: group.id,
            slug: group.slug,
            status: group.status,
        }
    }
}

impl LoadedEntry {
    fn state(&self, timing: Timing) -> EntryState<'_> {
        EntryState {
            group_id: self.group.id,
            group_slug: &self.group.slug,
            group_status: self.group.status,
            kind: self.entry.kind,
            status: self.entry.status,
            version: self.entry.version,
            in_feed: self.entry.in_feed,
            sticky: self.entry.sticky,
            priority: self.entry.priority,
            fields: &self.fields,
            live: self.live.as_ref(),
            timing,
        }
    }

    fn view(self, services: &Services) -> EntryView {
        EntryView {
            entry: self.entry,
            group_slug: self.group.slug,
            timing: services.timing(),
        }
    }
}

/// Loads an entry the principal may see; others get 404, as if it did not exist.
async fn load_visible(
    services: &Services,
    principal: &Principal,
    id: i64,
) -> AppResult<LoadedEntry> {
    let db = &services.db;
    let entry = entry::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|entry| principal.can_view_entry(entry.group_id, entry.status))
        .ok_or_else(|| AppError::not_found("entry"))?;
    let group = group::Entity::find_by_id(entry.group_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("group"))?
        .into();
    let live = live_revision_of(&entry)?;
    if entry.in_feed && live.is_none() {
        return Err(AppError::internal(
            "entry in the feed without a live revision",
            format!("entry {id}"),
        ));
    }
    Ok(LoadedEntry {
        fields: fields_of(&entry),
        entry,
        group,
        live,
    })
}

/// One line of an entry's history.
struct HistoryRecord<'a> {
    action: Action,
    /// `None` for the creation.
    from: Option<EntryStatus>,
    to: EntryStatus,
    comment: Option<&'a str>,
    changes: &'a Map<String, Value>,
}

impl<'a> From<&'a Plan> for HistoryRecord<'a> {
    fn from(plan: &'a Plan) -> Self {
        Self {
            action: plan.action,
            from: Some(plan.from),
            to: plan.to,
            comment: plan.comment.as_deref(),
            changes: &plan.changes,
        }
    }
}

async fn record(
    db: &impl ConnectionTrait,
    services: &Services,
    entry_id: i64,
    principal: &Principal,
    line: HistoryRecord<'_>,
) -> AppResult<()> {
    insert_line(db, entry_id, history_line(services, principal, line)).await
}

/// Stores a history line of `entry_id`.
async fn insert_line(
    db: &impl ConnectionTrait,
    entry_id: i64,
    mut line: entry_event::ActiveModel,
) -> AppResult<()> {
    line.entry_id = Set(entry_id);
    // Nothing is read back: decoding the row would be work for nothing.
    entry_event::Entity::insert(line)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The row of a history line, for the entry it is then given.
fn history_line(
    services: &Services,
    principal: &Principal,
    line: HistoryRecord<'_>,
) -> entry_event::ActiveModel {
    entry_event::ActiveModel {
        actor_user_id: Set(Some(principal.attributed_user_id())),
        actor_token_id: Set(principal.token_id()),
        actor_name: Set(principal.display_name()),
        action: Set(line.action),
        from_status: Set(line.from),
        to_status: Set(Some(line.to)),
        comment: Set(line.comment.map(str::to_string)),
        changes: Set(
            (!line.changes.is_empty()).then(|| Value::Object(line.changes.clone()).to_string())
        ),
        created_at: Set(services.now()),
        ..Default::default()
    }
}

/// Writes `active` only if the row still has `expected_version`, bumping it.
async fn save_versioned(
    db: &impl ConnectionTrait,
    services: &Services,
    mut active: entry::ActiveModel,
    id: i64,
    expected_version: i32,
) -> AppResult<entry::Model> {
    active.version = Set(expected_version + 1);
    active.updated_at = Set(services.now());
    let result = entry::Entity::update_many()
        .set(active)
        .filter(entry::Column::Id.eq(id))
        .filter(entry::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    let current = entry::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("entry"))?;
    if result.rows_affected == 1 {
        Ok(current)
    } else {
        Err(AppError::StaleVersion {
            current_version: current.version,
        })
    }
}

pub async fn create(
    services: &Services,
    principal: &Principal,
    new: NewEntry,
) -> AppResult<EntryView> {
    save_new(services, principal, new, false).await
}

/// Creates an entry and sends it to review in one transaction: when the
/// submission is refused (an event that is over), nothing is stored.
pub async fn create_and_submit(
    services: &Services,
    principal: &Principal,
    new: NewEntry,
) -> AppResult<EntryView> {
    save_new(services, principal, new, true).await
}

async fn save_new(
    services: &Services,
    principal: &Principal,
    new: NewEntry,
    submit: bool,
) -> AppResult<EntryView> {
    let (Some(slug), Some(kind)) = (new.group.as_deref(), new.kind) else {
        let mut errors = Vec::new();
        if new.group.is_none() {
            errors.push(crate::domain::FieldError::new("group", "is required"));
        }
        if new.kind.is_none() {
            errors.push(crate::domain::FieldError::new("kind", "is required"));
        }
        return Err(AppError::Validation(errors));
    };
    if new.version.is_some() {
        return Err(AppError::field("version", "is only for updates"));
    }
    let group = match principal.token_group(slug) {
        Some((id, status)) => EntryGroup {
            id,
            slug: slug.to_string(),
            status,
        },
        None => lookup::group_by_slug(&services.db, slug).await?.into(),
    };
    if !principal.can_write_entries(group.id) {
        return Err(AppError::Forbidden(format!(
            "you cannot write entries for group {slug}"
        )));
    }
    require_active_group(&group.slug, group.status, "it cannot write entries")?;
    let mut fields = EntryFields::default();
    fields.apply(new.patch);
    validate(kind, &mut fields, services.config.content_max_chars)?;
    may_set_image(principal, "", &fields.image)?;
    lookup::require_stored_picture(&services.db, &fields.image).await?;
    areas::require_existing(&services.db, fields.target_area_id).await?;
    let now = services.now();
    let mut active = entry::ActiveModel {
        group_id: Set(group.id),
        author_id: Set(principal.attributed_user_id()),
        kind: Set(kind),
        status: Set(EntryStatus::Draft),
        version: Set(1),
        sticky: Set(false),
        priority: Set(0),
        live_revision: Set(None),
        in_feed: Set(false),
        live_publish_to: Set(None),
        live_target_area_id: Set(None),
        live_changed_at: Set(None),
        retracted_at: Set(None),
        submitted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    set_fields(&mut active, fields.clone());
    let line = history_line(
        services,
        principal,
        HistoryRecord {
            action: Action::Create,
            from: None,
            to: EntryStatus::Draft,
            comment: None,
            changes: &Map::new(),
        },
    );
    let loaded = |entry| LoadedEntry {
        entry,
        group,
        fields,
        live: None,
    };
    let created = if submit {
        let txn = services.begin_write().await?;
        let saved = active.insert(&*txn).await?;
        insert_line(&*txn, saved.id, line).await?;
        let submitted = submit_saved(&*txn, services, principal, loaded(saved)).await?;
        txn.commit().await?;
        submitted
    } else {
        loaded(services.entry_inserts.insert(active, line).await?)
    };
    Ok(created.view(services))
}

pub async fn get(services: &Services, principal: &Principal, id: i64) -> AppResult<EntryView> {
    Ok(load_visible(services, principal, id).await?.view(services))
}

pub async fn update(
    services: &Services,
    principal: &Principal,
    id: i64,
    request: EditRequest,
) -> AppResult<EntryView> {
    save_edit(services, principal, id, request, false).await
}

/// Edits an entry and sends it to review in one transaction: when the
/// submission is refused, the edit is not stored either. An edit that
/// already puts the entry in review (of what is pending or live) is all
/// it takes.
pub async fn update_and_submit(
    services: &Services,
    principal: &Principal,
    id: i64,
    request: EditRequest,
) -> AppResult<EntryView> {
    save_edit(services, principal, id, request, true).await
}

async fn save_edit(
    services: &Services,
    principal: &Principal,
    id: i64,
    request: EditRequest,
    submit: bool,
) -> AppResult<EntryView> {
    lifecycle::required_version(request.version)?;
    let loaded = load_visible(services, principal, id).await?;
    let plan = lifecycle::plan_edit(
        principal,
        &loaded.state(services.timing()),
        request,
        services.config.content_max_chars,
    )?;
    if let Some(plan) = &plan {
        lookup::require_stored_picture(&services.db, &plan.fields.image).await?;
        areas::require_existing(&services.db, plan.fields.target_area_id).await?;
    } else if !submit {
        return Ok(loaded.view(services));
    }
    let txn = services.begin_write().await?;
    let mut saved = match plan {
        Some(plan) => store_edit(&*txn, services, principal, loaded, plan).await?,
        None => loaded,
    };
    if submit {
        saved = submit_saved(&*txn, services, principal, saved).await?;
    }
    txn.commit().await?;
    Ok(saved.view(services))
}

/// Stores a decided edit in the caller's transaction.
async fn store_edit(
    db: &impl ConnectionTrait,
    services: &Services,
    principal: &Principal,
    loaded: LoadedEntry,
    plan: EditPlan,
) -> AppResult<LoadedEntry> {
    let id = loaded.entry.id;
    let mut active: entry::ActiveModel = loaded.entry.clone().into();
    set_fields(&mut active, plan.fields.clone());
    active.status = Set(plan.to);
    if plan.submits() {
        active.submitted_at = Set(Some(services.now()));
    }
    let saved = save_versioned(db, services, active, id, plan.version).await?;
    let edited = HistoryRecord {
        action: Action::Edit,
        from: Some(plan.from),
        to: plan.to,
        comment: None,
        changes: &plan.changes,
    };
    record(db, services, id, principal, edited).await?;
    let what = changed_sentence(&plan.changes);
    outbox::entry_changed(
        db,
        services,
        principal,
        &saved,
        Action::Edit,
        plan.from,
        Some(&what),
    )
    .await?;
    Ok(LoadedEntry {
        entry: saved,
        fields: plan.fields,
        ..loaded
    })
}

/// Sends a just-saved entry to review in the caller's transaction, unless
/// saving already put it there.
async fn submit_saved(
    db: &impl ConnectionTrait,
    services: &Services,
    principal: &Principal,
    saved: LoadedEntry,
) -> AppResult<LoadedEntry> {
    if saved.entry.status == EntryStatus::Pending {
        return Ok(saved);
    }
    let plan = lifecycle::plan_action(
        principal,
        &saved.state(services.timing()),
        Action::Submit,
        &ActionRequest::default(),
    )?;
    let entry = store_plan(db, services, principal, &saved.entry, &plan).await?;
    Ok(LoadedEntry { entry, ..saved })
}

pub async fn delete(services: &Services, principal: &Principal, id: i64) -> AppResult<()> {
    let LoadedEntry { entry, .. } = load_visible(services, principal, id).await?;
    if !principal.can_write_entries(entry.group_id) {
        return Err(AppError::Forbidden(
            "only the entry's group may delete it".into(),
        ));
    }
    if !is_deletable(entry.status, entry.live_revision.is_some()) {
        return Err(AppError::InvalidTransition(
            "only drafts and withdrawn entries that were never published can be deleted; withdraw or ask a moderator to unpublish".into(),
        ));
    }
    let txn = services.begin_write().await?;
    entry_event::Entity::delete_many()
        .filter(entry_event::Column::EntryId.eq(id))
        .exec(&*txn)
        .await?;
    let result = entry::Entity::delete_many()
        .filter(entry::Column::Id.eq(id))
        .filter(entry::Column::Version.eq(entry.version))
        .exec(&*txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::StaleVersion {
            current_version: entry.version,
        });
    }
    txn.commit().await?;
    Ok(())
}

/// Applies a life-cycle action (submit, withdraw, approve, reject, request
/// changes, unpublish, comment).
pub async fn act(
    services: &Services,
    principal: &Principal,
    id: i64,
    action: Action,
    request: &ActionRequest,
) -> AppResult<EntryView> {
    let loaded = load_visible(services, principal, id).await?;
    let plan =
        lifecycle::plan_action(principal, &loaded.state(services.timing()), action, request)?;
    if plan.effect == Effect::Record {
        // A comment changes nothing an editor works on, so it does not bump the version.
        let txn = services.begin_write().await?;
        record_plan(&*txn, services, principal, &loaded.entry, &plan).await?;
        txn.commit().await?;
        return Ok(loaded.view(services));
    }
    // Decisions do not queue for the write turn: each waits for the snapshot
    // rebuild its change sets off, and decisions taken in turn would each get
    // a rebuild of their own instead of sharing one.
    let txn = services.db.begin().await?;
    let saved = store_plan(&txn, services, principal, &loaded.entry, &plan).await?;
    txn.commit().await?;
    if plan.changes_what_is_live() {
        services.live.changed().await;
    }
    Ok(EntryView {
        entry: saved,
        group_slug: loaded.group.slug,
        timing: services.timing(),
    })
}

/// Changes a published entry without a new review (status, amount raised,
/// cancelled or moved occurrences): both revisions change, the feeds at once.
pub async fn change_live(
    services: &Services,
    principal: &Principal,
    id: i64,
    change: &LiveChange,
) -> AppResult<EntryView> {
    let loaded = load_visible(services, principal, id).await?;
    change_loaded(services, principal, loaded, change).await
}

/// Calls off one meeting of a published series, the one that starts at
/// `occurrence` (local time, as the series names them), without review.
pub async fn cancel_occurrence(
    services: &Services,
    principal: &Principal,
    id: i64,
    version: Option<i32>,
    occurrence: &str,
) -> AppResult<EntryView> {
    let loaded = load_visible(services, principal, id).await?;
    let mut exdates = loaded
        .live
        .as_ref()
        .map(|live| live.fields.exdates.clone())
        .unwrap_or_default();
    exdates.push(occurrence.to_string());
    let change = LiveChange {
        version,
        exdates: Some(exdates),
        ..LiveChange::default()
    };
    change_loaded(services, principal, loaded, &change).await
}

async fn change_loaded(
    services: &Services,
    principal: &Principal,
    loaded: LoadedEntry,
    change: &LiveChange,
) -> AppResult<EntryView> {
    let id = loaded.entry.id;
    let plan = lifecycle::plan_live_change(principal, &loaded.state(services.timing()), change)?;
    if plan.changes.is_empty() {
        return Ok(loaded.view(services));
    }
    let mut active: entry::ActiveModel = loaded.entry.clone().into();
    set_fields(&mut active, plan.fields);
    // What the group changes without review (a cancellation, say) is news.
    publish(
        &mut active,
        &loaded.entry,
        &plan.live,
        plan.until,
        services.now(),
        true,
    )?;
    // Published at once, so no write turn (see `act`).
    let txn = services.db.begin().await?;
    let saved = save_versioned(&txn, services, active, id, loaded.entry.version).await?;
    let updated = HistoryRecord {
        action: Action::Update,
        from: Some(saved.status),
        to: saved.status,
        comment: None,
        changes: &plan.changes,
    };
    record(&txn, services, id, principal, updated).await?;
    txn.commit().await?;
    services.live.changed().await;
    Ok(EntryView {
        entry: saved,
        group_slug: loaded.group.slug,
        timing: services.timing(),
    })
}

/// Stores `plan` on `entry` in the caller's transaction: the row (only if
/// it still has the version it was read at), its history and its mail.
async fn store_plan(
    db: &impl ConnectionTrait,
    services: &Services,
    principal: &Principal,
    entry: &entry::Model,
    plan: &Plan,
) -> AppResult<entry::Model> {
    let active = planned_row(entry, plan)?;
    let saved = save_versioned(db, services, active, entry.id, entry.version).await?;
    record_plan(db, services, principal, &saved, plan).await?;
    Ok(saved)
}

/// Records `plan` in the history of `entry` and queues the mail it causes,
/// in the caller's transaction.
async fn record_plan(
    db: &impl ConnectionTrait,
    services: &Services,
    principal: &Principal,
    entry: &entry::Model,
    plan: &Plan,
) -> AppResult<()> {
    record(db, services, entry.id, principal, plan.into()).await?;
    let comment = plan.comment.as_deref();
    outbox::entry_changed(
        db,
        services,
        principal,
        entry,
        plan.action,
        plan.from,
        comment,
    )
    .await
}

/// The row as `plan` leaves it (version and update time are set on saving).
fn planned_row(entry: &entry::Model, plan: &Plan) -> AppResult<entry::ActiveModel> {
    let now = plan.at;
    let mut active: entry::ActiveModel = entry.clone().into();
    active.status = Set(plan.to);
    match &plan.effect {
        Effect::Record | Effect::Move => {}
        Effect::Submit => active.submitted_at = Set(Some(now)),
        Effect::Publish {
            live,
            until,
            notify_clients,
        } => {
            active.sticky = Set(live.sticky);
            active.priority = Set(live.priority);
            active.live_target_area_id = Set(live.fields.target_area_id);
            set_fields(&mut active, live.fields.clone());
            publish(&mut active, entry, live, *until, now, *notify_clients)?;
            active.in_feed = Set(true);
            active.retracted_at = Set(None);
        }
        Effect::Restore(fields) => set_fields(&mut active, fields.clone()),
        Effect::Retract => retract(&mut active, entry, now),
    }
    Ok(active)
}

/// Stores `live` as the published revision until `until`: one more
/// published change (`SEQUENCE`), its search text, its time, and when QGIS
/// clients are told of it: now, unless it is a correction (then when they
/// were last told, so that QGIS 3.36+ does not show it again to users who
/// dismissed it; a row imported without that instant was last told at its
/// last change).
fn publish(
    active: &mut entry::ActiveModel,
    entry: &entry::Model,
    live: &LiveRevision,
    until: Option<i64>,
    now: i64,
    notify_clients: bool,
) -> AppResult<()> {
    let notified_at = if notify_clients {
        Some(now)
    } else {
        notified_at_of(entry)?.or(entry.live_changed_at)
    };
    let stored = serde_json::to_string(&PublishedRevision {
        live: live.clone(),
        notified_at,
    })
    .map_err(|error| AppError::internal("cannot store the live revision", error))?;
    active.live_revision = Set(Some(stored));
    active.live_publish_to = Set(until);
    active.live_sequence = Set(entry.live_sequence + 1);
    active.live_search = Set(Some(search_text(&live.fields)));
    active.live_changed_at = Set(Some(now));
    Ok(())
}

/// When QGIS clients were last told of the published revision of a row.
fn notified_at_of(model: &entry::Model) -> AppResult<Option<i64>> {
    Ok(model
        .live_revision
        .as_deref()
        .map(serde_json::from_str::<PublishedRevision>)
        .transpose()
        .map_err(|error| AppError::internal("unreadable live revision", error))?
        .and_then(|published| published.notified_at))
}

/// Takes an entry offline but keeps its last live revision: feeds use it to
/// tell clients that already show the entry to drop it.
fn retract(active: &mut entry::ActiveModel, entry: &entry::Model, now: i64) {
    active.in_feed = Set(false);
    active.retracted_at = Set(Some(now));
    active.live_changed_at = Set(Some(now));
    // A published change too: calendars take the cancellation by its SEQUENCE.
    active.live_sequence = Set(entry.live_sequence + 1);
}

/// Unpublishes every live entry of a group that is being removed, inside the
/// caller's transaction, so that clients showing them are told to drop them.
pub async fn retract_group(
    services: &Services,
    db: &impl ConnectionTrait,
    principal: &Principal,
    group_id: i64,
) -> AppResult<()> {
    let live = entry::Entity::find()
        .filter(entry::Column::GroupId.eq(group_id))
        .filter(entry::Column::InFeed.eq(true))
        .all(db)
        .await?;
    for entry in live {
        let plan = Plan {
            action: Action::Unpublish,
            from: entry.status,
            to: EntryStatus::Unpublished,
            comment: Some("the group was removed".into()),
            changes: Map::new(),
            effect: Effect::Retract,
            at: services.now(),
        };
        let active = planned_row(&entry, &plan)?;
        save_versioned(db, services, active, entry.id, entry.version).await?;
        record(db, services, entry.id, principal, (&plan).into()).await?;
    }
    Ok(())
}

pub async fn history(
    services: &Services,
    principal: &Principal,
    id: i64,
) -> AppResult<Vec<entry_event::Model>> {
    load_visible(services, principal, id).await?;
    Ok(entry_event::Entity::find()
        .filter(entry_event::Column::EntryId.eq(id))
        .order_by_asc(entry_event::Column::Id)
        .all(&services.db)
        .await?)
}

/// What the principal may list: its groups' entries, and for moderators
/// everything that is not a draft.
fn visibility(principal: &Principal) -> Condition {
    if principal.is_admin() {
        return Condition::all();
    }
    let mut condition =
        Condition::any().add(entry::Column::GroupId.is_in(principal.own_group_ids()));
    if principal.is_moderator() {
        condition = condition.add(entry::Column::Status.ne(EntryStatus::Draft));
    }
    condition
}

/// How `filtered` learns how many entries match.
enum Total {
    /// `COUNT(*)` of the matching rows.
    Count,
    /// The moderation queue unfiltered: the groups' pending counters.
    Pending,
}

async fn filtered(
    services: &Services,
    condition: Condition,
    filter: &EntryFilter,
    (total, oldest_submitted_first): (Total, bool),
) -> AppResult<(Vec<EntryView>, u64)> {
    let db = &services.db;
    // Filters narrow what the principal may see: AND them with the
    // visibility condition (which may itself be an OR).
    let mut condition = Condition::all().add(condition);
    if let Some(slug) = &filter.group {
        let group = lookup::group_by_slug(db, slug).await?;
        condition = condition.add(entry::Column::GroupId.eq(group.id));
    }
    if let Some(status) = filter.status {
        condition = condition.add(entry::Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(entry::Column::Kind.eq(kind));
    }
    if !filter.languages.is_empty() {
        condition = condition.add(
            Condition::any()
                .add(entry::Column::Language.is_in(filter.languages.iter().cloned()))
                .add(entry::Column::Language.is_null()),
        );
    }
    if let Some(reviewer) = filter.assigned_to {
        let assigned: Vec<i64> = entry_reviewer::Entity::find()
            .filter(entry_reviewer::Column::UserId.eq(reviewer))
            .all(db)
            .await?
            .into_iter()
            .map(|row| row.entry_id)
            .collect();
        condition = condition.add(entry::Column::Id.is_in(assigned));
    }
    if let Some(query) = &filter.query {
        search::refresh(db).await?;
        condition = condition.add(search::entries_matching(
            db.get_database_backend(),
            query,
            search::Revision::Working,
        ));
    }
    let query = entry::Entity::find().filter(condition);
    let counted = match total {
        Total::Count => Some(query.clone().count(db).await?),
        Total::Pending => None,
    };
    let query = if oldest_submitted_first {
        query
            .order_by_asc(entry::Column::SubmittedAt)
            .order_by_asc(entry::Column::Id)
    } else {
        query.order_by_desc(entry::Column::Id)
    };
    let (limit, offset) = limits::page_window(filter.limit, filter.offset);
    let (views, queue_total) = with_group_slugs(
        services,
        query.offset(offset).limit(limit),
        counted.is_none(),
    )
    .await?;
    let total = match (counted, queue_total) {
        (Some(total), _) | (None, Some(total)) => total,
        // A page past the end read no total with it.
        (None, None) => pending_count(services).await?,
    };
    Ok((views, total))
}

/// The entries `query` selects, each with its group's slug, joined rather
/// than looked up apart, and with `queue_total` the length of the
/// moderation queue read in the same statement (`None` when no entry is
/// selected). One statement, not three: each costs a trip to the database.
async fn with_group_slugs(
    services: &Services,
    query: Select<entry::Entity>,
    queue_total: bool,
) -> AppResult<(Vec<EntryView>, Option<u64>)> {
    let db = &services.db;
    let entry_group = Alias::new("entry_group");
    let mut statement = query.into_query();
    statement
        .join_as(
            JoinType::InnerJoin,
            group::Entity,
            entry_group.clone(),
            Expr::col((entry_group.clone(), group::Column::Id))
                .equals((entry::Entity, entry::Column::GroupId)),
        )
        .expr_as(
            Expr::col((entry_group, group::Column::Slug)),
            Alias::new("group_slug"),
        );
    if queue_total {
        statement.expr_as(
            Expr::SubQuery(None, Box::new(pending_count_query().into())),
            Alias::new("queue_total"),
        );
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&statement))
        .await?;
    // Every row carries the same total: read it once.
    let total = match rows.first() {
        Some(row) if queue_total => {
            let count: i64 = row.try_get("", "queue_total")?;
            Some(u64::try_from(count).unwrap_or(0))
        }
        _ => None,
    };
    let timing = services.timing();
    let views = rows
        .iter()
        .map(|row| {
            Ok(EntryView {
                entry: entry::Model::from_query_result(row, "")?,
                group_slug: row.try_get("", "group_slug")?,
                timing,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok((views, total))
}

pub async fn list(
    services: &Services,
    principal: &Principal,
    filter: &EntryFilter,
) -> AppResult<(Vec<EntryView>, u64)> {
    let condition = if filter.mine && !principal.is_admin() {
        Condition::all().add(entry::Column::GroupId.is_in(principal.own_group_ids()))
    } else {
        visibility(principal)
    };
    filtered(services, condition, filter, (Total::Count, false)).await
}

/// A new draft from an entry's working revision: "Copy of …", published
/// from now until the end its kind gives it. Its group must still be able to write.
pub async fn clone_entry(
    services: &Services,
    principal: &Principal,
    id: i64,
) -> AppResult<EntryView> {
    let loaded = load_visible(services, principal, id).await?;
    let mut fields = loaded.fields;
    let title: String = format!("Copy of {}", fields.title)
        .chars()
        .take(crate::domain::limits::TITLE_CHARS)
        .collect();
    fields.title = title;
    let now = services.now();
    fields.publish_from = Some(now);
    fields.publish_to = None;
    let new = NewEntry {
        group: Some(loaded.group.slug),
        kind: Some(loaded.entry.kind),
        version: None,
        patch: fields.into(),
    };
    create(services, principal, new).await
}

/// How many entries wait for a moderator (`/metrics`; the pages read it
/// with their viewer, see `auth::signed_in`).
pub async fn pending_count(services: &Services) -> AppResult<u64> {
    let db = &services.db;
    let row = db
        .query_one_raw(db.get_database_backend().build(&pending_count_query()))
        .await?;
    let count: i64 = row
        .map(|row| row.try_get_by_index(0))
        .transpose()?
        .unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The length of the moderation queue, to run alone or inside another
/// statement: the sum of the pending counters (migration m0021's
/// triggers keep them) of the groups that are not removed.
pub fn pending_count_query() -> SelectStatement {
    Query::select()
        // PostgreSQL sums BIGINTs as NUMERIC: cast back for the reader.
        .expr(Expr::cust(
            "CAST(COALESCE(SUM(pending_count), 0) AS BIGINT)",
        ))
        .from(group::Entity)
        .and_where(group::Column::Status.ne(crate::domain::GroupStatus::Removed))
        .to_owned()
}

/// Pending entries of groups that are not removed: a removed group's
/// entries can never be approved, so they leave the queue. (The removed
/// groups are a subquery: counting reads one index range of `status`.)
fn pending_condition() -> Condition {
    let removed = Query::select()
        .column((group::Entity, group::Column::Id))
        .from(group::Entity)
        .and_where(group::Column::Status.eq(crate::domain::GroupStatus::Removed))
        .to_owned();
    Condition::all()
        .add(entry::Column::Status.eq(EntryStatus::Pending))
        .add(Expr::col((entry::Entity, entry::Column::GroupId)).not_in_subquery(removed))
}

/// Pending entries, oldest submission first, with the total count.
pub async fn queue(
    services: &Services,
    principal: &Principal,
    filter: &EntryFilter,
) -> AppResult<(Vec<EntryView>, u64)> {
    if !principal.is_moderator() {
        return Err(Refusal::Forbidden("only moderators see the queue".into()).into());
    }
    let total = if filter.narrows() {
        Total::Count
    } else {
        Total::Pending
    };
    filtered(services, pending_condition(), filter, (total, true)).await
}
