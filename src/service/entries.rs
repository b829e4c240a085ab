//! Entries and their life cycle: create, edit, submit, moderate, publish.
//!
//! Every transition runs in one transaction that also writes an audit event,
//! and only applies when the row still has the version it was read at, so two
//! people acting at once cannot both win.

use crate::domain::text::Text;
use poem_openapi::Object;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::{groups, now};
use crate::AppState;
use crate::domain::authz::Principal;
use crate::domain::entry::{EntryFields, EntryInput, LiveRevision, diff, validate};
use crate::domain::lifecycle::{Action, is_deletable, next_status};
use crate::domain::{EntryKind, EntryStatus, GroupStatus};
use crate::entities::{entry, entry_event, group};
use crate::error::{AppError, AppResult};

/// An entry with the slug of its group.
#[derive(Clone, Debug)]
pub struct EntryView {
    pub entry: entry::Model,
    pub group_slug: String,
}

/// What a moderator (or an editor, for submit and withdraw) sends with an action.
#[derive(Object, Clone, Debug, Default)]
#[oai(deny_unknown_fields)]
pub struct ActionInput {
    /// Why; required to reject, request changes, unpublish and comment.
    #[oai(nullable)]
    pub comment: Option<Text>,
    /// The version the action is based on; a stale one gets 409.
    #[oai(nullable)]
    pub version: Option<i32>,
    /// On approve: pin the entry to the top of the feeds.
    #[oai(nullable)]
    pub sticky: Option<bool>,
    /// On approve: higher comes first among entries of equal stickiness.
    #[oai(nullable)]
    pub priority: Option<i32>,
    /// On approve: override the start of the publication window.
    #[oai(nullable)]
    pub publish_from: Option<chrono::DateTime<chrono::Utc>>,
    /// On approve: override the end of the publication window.
    #[oai(nullable)]
    pub publish_to: Option<chrono::DateTime<chrono::Utc>>,
}

/// Filters for entry lists and the moderation queue.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    pub group: Option<String>,
    pub status: Option<EntryStatus>,
    pub kind: Option<EntryKind>,
    pub language: Option<String>,
    pub limit: u64,
    pub offset: u64,
}

const MAX_COMMENT_CHARS: usize = 4000;

fn fields_of(model: &entry::Model) -> EntryFields {
    EntryFields {
        title: model.title.clone(),
        content: model.content.clone(),
        url: model.url.clone(),
        image: model.image.clone(),
        language: model.language.clone(),
        target_area: model
            .target_area
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok()),
        call_to_action: model.call_to_action.clone(),
        publish_from: model.publish_from,
        publish_to: model.publish_to,
        starts_at: model.starts_at,
        ends_at: model.ends_at,
        timezone: model.timezone.clone(),
        location_name: model.location_name.clone(),
        latitude: model.latitude,
        longitude: model.longitude,
        online_url: model.online_url.clone(),
        goal_amount: model.goal_amount,
        currency: model.currency.clone(),
        deadline: model.deadline,
    }
}

fn set_fields(active: &mut entry::ActiveModel, fields: EntryFields) {
    active.title = Set(fields.title);
    active.content = Set(fields.content);
    active.url = Set(fields.url);
    active.image = Set(fields.image);
    active.language = Set(fields.language);
    active.target_area = Set(fields
        .target_area
        .map(|area| serde_json::to_string(&area).unwrap_or_default()));
    active.call_to_action = Set(fields.call_to_action);
    active.publish_from = Set(fields.publish_from);
    active.publish_to = Set(fields.publish_to);
    active.starts_at = Set(fields.starts_at);
    active.ends_at = Set(fields.ends_at);
    active.timezone = Set(fields.timezone);
    active.location_name = Set(fields.location_name);
    active.latitude = Set(fields.latitude);
    active.longitude = Set(fields.longitude);
    active.online_url = Set(fields.online_url);
    active.goal_amount = Set(fields.goal_amount);
    active.currency = Set(fields.currency);
    active.deadline = Set(fields.deadline);
}

fn status_of(model: &entry::Model) -> EntryStatus {
    EntryStatus::parse(&model.status).unwrap_or(EntryStatus::Draft)
}

fn kind_of(model: &entry::Model) -> EntryKind {
    EntryKind::parse(&model.kind).unwrap_or(EntryKind::Announcement)
}

fn clean_comment(comment: Option<&str>) -> AppResult<Option<String>> {
    let comment = comment.map(str::trim).filter(|text| !text.is_empty());
    if comment.is_some_and(|text| text.chars().count() > MAX_COMMENT_CHARS) {
        return Err(AppError::field(
            "comment",
            format!("must be at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    if comment.is_some_and(|text| text.contains('\0')) {
        // PostgreSQL text cannot hold NUL.
        return Err(AppError::field(
            "comment",
            "must not contain NUL characters",
        ));
    }
    Ok(comment.map(str::to_string))
}

async fn record(
    db: &impl ConnectionTrait,
    entry_id: i64,
    principal: &Principal,
    action: Action,
    statuses: (Option<EntryStatus>, Option<EntryStatus>),
    comment: Option<String>,
    changes: Option<serde_json::Map<String, serde_json::Value>>,
) -> AppResult<()> {
    entry_event::ActiveModel {
        entry_id: Set(entry_id),
        actor_user_id: Set(Some(principal.user_id())),
        actor_token_id: Set(principal.token_id()),
        actor_name: Set(principal.display_name()),
        action: Set(action.as_str().into()),
        from_status: Set(statuses.0.map(|s| s.as_str().into())),
        to_status: Set(statuses.1.map(|s| s.as_str().into())),
        comment: Set(comment),
        changes: Set(changes
            .filter(|map| !map.is_empty())
            .map(|map| serde_json::Value::Object(map).to_string())),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

fn ensure_active(group: &group::Model) -> AppResult<()> {
    if group.status == GroupStatus::Active.as_str() {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "group {} is {} and cannot submit entries",
            group.slug, group.status
        )))
    }
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: &EntryInput,
) -> AppResult<EntryView> {
    let (Some(slug), Some(kind)) = (input.group.as_deref(), input.kind) else {
        let mut errors = Vec::new();
        if input.group.is_none() {
            errors.push(crate::error::FieldError::new("group", "is required"));
        }
        if input.kind.is_none() {
            errors.push(crate::error::FieldError::new("kind", "is required"));
        }
        return Err(AppError::Validation(errors));
    };
    if input.version.is_some() {
        return Err(AppError::field("version", "is only for updates"));
    }
    let group = groups::find_by_slug(&state.db, slug).await?;
    if !principal.can_write_entries(group.id) {
        return Err(AppError::Forbidden(format!(
            "you cannot write entries for group {slug}"
        )));
    }
    ensure_active(&group)?;
    let mut fields = EntryFields::default();
    fields.apply(input);
    validate(kind, &mut fields, state.config.content_max_chars).map_err(AppError::Validation)?;
    let now = now();
    let txn = state.db.begin().await?;
    let mut active = entry::ActiveModel {
        group_id: Set(group.id),
        author_id: Set(principal.user_id()),
        kind: Set(kind.as_str().into()),
        status: Set(EntryStatus::Draft.as_str().into()),
        version: Set(1),
        sticky: Set(false),
        priority: Set(0),
        live: Set(None),
        in_feed: Set(false),
        live_publish_to: Set(None),
        live_changed_at: Set(None),
        retracted_at: Set(None),
        submitted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    set_fields(&mut active, fields);
    let saved = active.insert(&txn).await?;
    record(
        &txn,
        saved.id,
        principal,
        Action::Create,
        (None, Some(EntryStatus::Draft)),
        None,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(EntryView {
        entry: saved,
        group_slug: group.slug,
    })
}

async fn load(db: &impl ConnectionTrait, id: i64) -> AppResult<(entry::Model, group::Model)> {
    let entry = entry::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("entry"))?;
    let group = group::Entity::find_by_id(entry.group_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("group"))?;
    Ok((entry, group))
}

/// Loads an entry the principal may see; others get 404, as if it did not exist.
async fn load_visible(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> AppResult<(entry::Model, group::Model)> {
    let (entry, group) = load(&state.db, id).await?;
    if principal.can_view_entry(entry.group_id, status_of(&entry)) {
        Ok((entry, group))
    } else {
        Err(AppError::not_found("entry"))
    }
}

pub async fn get(state: &AppState, principal: &Principal, id: i64) -> AppResult<EntryView> {
    let (entry, group) = load_visible(state, principal, id).await?;
    Ok(EntryView {
        entry,
        group_slug: group.slug,
    })
}

/// Writes `active` only if the row still has `expected_version`, bumping it.
async fn save_versioned(
    db: &impl ConnectionTrait,
    mut active: entry::ActiveModel,
    id: i64,
    expected_version: i32,
) -> AppResult<entry::Model> {
    active.version = Set(expected_version + 1);
    active.updated_at = Set(now());
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
        Err(stale(current.version))
    }
}

fn stale(current_version: i32) -> AppError {
    AppError::Conflict {
        message: "the entry was changed by someone else; reload it and try again".into(),
        current_version: Some(current_version),
    }
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: i64,
    input: &EntryInput,
) -> AppResult<EntryView> {
    let Some(version) = input.version else {
        return Err(AppError::field(
            "version",
            "is required: send the version you edited",
        ));
    };
    let (entry, group) = load_visible(state, principal, id).await?;
    if !principal.can_write_entries(entry.group_id) {
        return Err(AppError::Forbidden(
            "only the entry's group may edit it".into(),
        ));
    }
    if input
        .group
        .as_deref()
        .is_some_and(|slug| slug != group.slug)
    {
        return Err(AppError::field("group", "cannot be changed"));
    }
    let kind = kind_of(&entry);
    if input.kind.is_some_and(|new| new != kind) {
        return Err(AppError::field("kind", "cannot be changed"));
    }
    if version != entry.version {
        return Err(stale(entry.version));
    }
    ensure_active(&group)?;
    let from = status_of(&entry);
    let to = next_status(from, Action::Edit, entry.in_feed)
        .ok_or_else(|| AppError::conflict(format!("an entry that is {from} cannot be edited")))?;
    let old = fields_of(&entry);
    let mut fields = old.clone();
    fields.apply(input);
    validate(kind, &mut fields, state.config.content_max_chars).map_err(AppError::Validation)?;
    let changes = diff(&old, &fields);
    if changes.is_empty() {
        return Ok(EntryView {
            entry,
            group_slug: group.slug,
        });
    }
    let txn = state.db.begin().await?;
    let mut active: entry::ActiveModel = entry.clone().into();
    set_fields(&mut active, fields);
    active.status = Set(to.as_str().into());
    if to == EntryStatus::Pending && from != EntryStatus::Pending {
        active.submitted_at = Set(Some(now()));
    }
    let saved = save_versioned(&txn, active, id, version).await?;
    record(
        &txn,
        id,
        principal,
        Action::Edit,
        (Some(from), Some(to)),
        None,
        Some(changes),
    )
    .await?;
    txn.commit().await?;
    Ok(EntryView {
        entry: saved,
        group_slug: group.slug,
    })
}

pub async fn delete(state: &AppState, principal: &Principal, id: i64) -> AppResult<()> {
    let (entry, _) = load_visible(state, principal, id).await?;
    if !principal.can_write_entries(entry.group_id) {
        return Err(AppError::Forbidden(
            "only the entry's group may delete it".into(),
        ));
    }
    if !is_deletable(status_of(&entry), entry.live.is_some()) {
        return Err(AppError::conflict(
            "only drafts and withdrawn entries that were never published can be deleted; withdraw or ask a moderator to unpublish",
        ));
    }
    let txn = state.db.begin().await?;
    entry_event::Entity::delete_many()
        .filter(entry_event::Column::EntryId.eq(id))
        .exec(&txn)
        .await?;
    let result = entry::Entity::delete_many()
        .filter(entry::Column::Id.eq(id))
        .filter(entry::Column::Version.eq(entry.version))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(stale(entry.version));
    }
    txn.commit().await?;
    Ok(())
}

/// Applies a life-cycle action (submit, withdraw, approve, reject, request
/// changes, unpublish, comment).
pub async fn act(
    state: &AppState,
    principal: &Principal,
    id: i64,
    action: Action,
    input: &ActionInput,
) -> AppResult<EntryView> {
    let (entry, group) = load_visible(state, principal, id).await?;
    let allowed = if action.is_moderation() {
        principal.is_moderator()
    } else if action == Action::Comment {
        principal.is_moderator() || principal.can_write_entries(entry.group_id)
    } else {
        principal.can_write_entries(entry.group_id)
    };
    if !allowed {
        return Err(AppError::Forbidden(format!(
            "you may not {} this entry",
            action.as_str().replace('_', " ")
        )));
    }
    let comment = clean_comment(input.comment.as_deref())?;
    if action.requires_comment() && comment.is_none() {
        return Err(AppError::field("comment", "is required for this action"));
    }
    let moderation_only = [
        ("sticky", input.sticky.is_some()),
        ("priority", input.priority.is_some()),
        ("publish_from", input.publish_from.is_some()),
        ("publish_to", input.publish_to.is_some()),
    ];
    if action != Action::Approve {
        if let Some((field, _)) = moderation_only.iter().find(|(_, given)| *given) {
            return Err(AppError::field(field, "only applies to approve"));
        }
    }
    if input
        .version
        .is_some_and(|version| version != entry.version)
    {
        return Err(stale(entry.version));
    }
    if action == Action::Submit {
        ensure_active(&group)?;
    }
    let from = status_of(&entry);
    let to = next_status(from, action, entry.in_feed).ok_or_else(|| {
        AppError::conflict(format!(
            "cannot {} an entry that is {from}",
            action.as_str().replace('_', " ")
        ))
    })?;

    if action == Action::Comment {
        // A comment changes nothing an editor works on, so it does not bump the version.
        record(
            &state.db,
            id,
            principal,
            action,
            (Some(from), Some(to)),
            comment,
            None,
        )
        .await?;
        return Ok(EntryView {
            entry,
            group_slug: group.slug,
        });
    }

    let now = now();
    let txn = state.db.begin().await?;
    let mut active: entry::ActiveModel = entry.clone().into();
    active.status = Set(to.as_str().into());
    let mut changes = None;
    let mut live_changed = false;
    match action {
        Action::Submit => active.submitted_at = Set(Some(now)),
        Action::Approve => {
            let mut fields = fields_of(&entry);
            let old = LiveRevision {
                kind: kind_of(&entry),
                sticky: entry.sticky,
                priority: entry.priority,
                fields: fields.clone(),
            };
            if let Some(from) = input.publish_from {
                fields.publish_from = Some(from.timestamp());
            }
            if let Some(to) = input.publish_to {
                fields.publish_to = Some(to.timestamp());
            }
            validate(kind_of(&entry), &mut fields, usize::MAX).map_err(AppError::Validation)?;
            let sticky = input.sticky.unwrap_or(entry.sticky);
            let priority = input.priority.unwrap_or(entry.priority);
            let live = LiveRevision {
                kind: kind_of(&entry),
                sticky,
                priority,
                fields: fields.clone(),
            };
            // Both sides serialize as one object, so the diff names each field.
            changes = Some(diff(&old, &live));
            active.sticky = Set(sticky);
            active.priority = Set(priority);
            active.live_publish_to = Set(fields.publish_to);
            set_fields(&mut active, fields);
            active.live = Set(Some(
                serde_json::to_string(&live).map_err(|e| AppError::Internal(e.to_string()))?,
            ));
            active.in_feed = Set(true);
            active.live_changed_at = Set(Some(now));
            active.retracted_at = Set(None);
            live_changed = true;
        }
        Action::Reject if entry.in_feed => {
            // The refused edit stays in the history; the entry shows what is live again.
            let live = entry
                .live
                .as_deref()
                .and_then(|text| serde_json::from_str::<LiveRevision>(text).ok())
                .ok_or_else(|| {
                    AppError::Internal(format!("entry {id} has no readable live revision"))
                })?;
            changes = Some(diff(&fields_of(&entry), &live.fields));
            set_fields(&mut active, live.fields);
        }
        Action::Unpublish | Action::Withdraw if entry.in_feed => {
            retract(&mut active, now);
            live_changed = true;
        }
        _ => {}
    }
    let saved = save_versioned(&txn, active, id, entry.version).await?;
    record(
        &txn,
        id,
        principal,
        action,
        (Some(from), Some(to)),
        comment,
        changes,
    )
    .await?;
    txn.commit().await?;
    if live_changed {
        state.live_changed().await;
    }
    Ok(EntryView {
        entry: saved,
        group_slug: group.slug,
    })
}

/// Takes an entry offline but keeps its last live revision: feeds use it to
/// tell clients that already show the entry to drop it.
fn retract(active: &mut entry::ActiveModel, now: i64) {
    active.in_feed = Set(false);
    active.retracted_at = Set(Some(now));
    active.live_changed_at = Set(Some(now));
}

/// Unpublishes every live entry of a group that is being removed, inside the
/// caller's transaction, so that clients showing them are told to drop them.
pub async fn retract_group(
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
        let from = status_of(&entry);
        let mut active: entry::ActiveModel = entry.clone().into();
        active.status = Set(EntryStatus::Unpublished.as_str().into());
        retract(&mut active, now());
        save_versioned(db, active, entry.id, entry.version).await?;
        record(
            db,
            entry.id,
            principal,
            Action::Unpublish,
            (Some(from), Some(EntryStatus::Unpublished)),
            Some("the group was removed".into()),
            None,
        )
        .await?;
    }
    Ok(())
}

pub async fn history(
    state: &AppState,
    principal: &Principal,
    id: i64,
) -> AppResult<Vec<entry_event::Model>> {
    load_visible(state, principal, id).await?;
    Ok(entry_event::Entity::find()
        .filter(entry_event::Column::EntryId.eq(id))
        .order_by_asc(entry_event::Column::Id)
        .all(&state.db)
        .await?)
}

/// What the principal may list: its groups' entries, and for moderators
/// everything that is not a draft.
fn visibility(principal: &Principal) -> Condition {
    if principal.is_admin() {
        return Condition::all();
    }
    let own_groups: Vec<i64> = match principal {
        Principal::User { memberships, .. } => memberships.keys().copied().collect(),
        Principal::GroupToken { group_id, .. } => vec![*group_id],
    };
    let mut condition = Condition::any().add(entry::Column::GroupId.is_in(own_groups));
    if principal.is_moderator() {
        condition = condition.add(entry::Column::Status.ne(EntryStatus::Draft.as_str()));
    }
    condition
}

async fn filtered(
    state: &AppState,
    condition: Condition,
    filter: &EntryFilter,
    oldest_submitted_first: bool,
) -> AppResult<(Vec<EntryView>, u64)> {
    // Filters narrow what the principal may see: AND them with the
    // visibility condition (which may itself be an OR).
    let mut condition = Condition::all().add(condition);
    if let Some(slug) = &filter.group {
        let group = groups::find_by_slug(&state.db, slug).await?;
        condition = condition.add(entry::Column::GroupId.eq(group.id));
    }
    if let Some(status) = filter.status {
        condition = condition.add(entry::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        condition = condition.add(entry::Column::Kind.eq(kind.as_str()));
    }
    if let Some(language) = &filter.language {
        if language.contains('\0') {
            return Err(AppError::BadRequest("lang must be a language code".into()));
        }
        condition = condition.add(
            Condition::any()
                .add(entry::Column::Language.eq(language.to_ascii_lowercase()))
                .add(entry::Column::Language.is_null()),
        );
    }
    let query = entry::Entity::find().filter(condition);
    let total = query.clone().count(&state.db).await?;
    let query = if oldest_submitted_first {
        query
            .order_by_asc(entry::Column::SubmittedAt)
            .order_by_asc(entry::Column::Id)
    } else {
        query.order_by_desc(entry::Column::Id)
    };
    let entries = query
        .offset(filter.offset)
        .limit(filter.limit)
        .all(&state.db)
        .await?;
    let group_ids: Vec<i64> = entries.iter().map(|entry| entry.group_id).collect();
    let slugs: std::collections::HashMap<i64, String> = group::Entity::find()
        .filter(group::Column::Id.is_in(group_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|group| (group.id, group.slug))
        .collect();
    let views = entries
        .into_iter()
        .map(|entry| EntryView {
            group_slug: slugs.get(&entry.group_id).cloned().unwrap_or_default(),
            entry,
        })
        .collect();
    Ok((views, total))
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: &EntryFilter,
) -> AppResult<(Vec<EntryView>, u64)> {
    filtered(state, visibility(principal), filter, false).await
}

/// Pending entries, oldest submission first, with the total count.
pub async fn queue(
    state: &AppState,
    principal: &Principal,
    filter: &EntryFilter,
) -> AppResult<(Vec<EntryView>, u64)> {
    if !principal.is_moderator() {
        return Err(AppError::Forbidden("only moderators see the queue".into()));
    }
    let condition = Condition::all().add(entry::Column::Status.eq(EntryStatus::Pending.as_str()));
    filtered(state, condition, filter, true).await
}
