//! Calendars groups keep elsewhere, pulled in: subscriptions to iCalendar
//! URLs fetched on a schedule, and one-off file imports. Each source event
//! (by UID) becomes an entry of the group that goes through review as any
//! other, unless an admin allowed the subscription's wish to approve at once.
//!
//! Updates follow one rule: the source wins until the entry is edited here;
//! after that the fields the source changes are still offered, over the
//! edit made here, for review (never approved at once). An event gone from
//! the source is cancelled here (`event_status`), never deleted; one that
//! is over is left alone (sources drop past events).

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entries::{self, EntryView, NewEntry, fields_of};
use super::{Services, groups, lookup};
use crate::domain::authz::Principal;
use crate::domain::calendar_source::{self, Reading, SourceEvent, hash_of, merge_change};
use crate::domain::entry::{EntryFields, EntryPatch};
use crate::domain::lifecycle::{ActionRequest, EditRequest, LiveChange};
use crate::domain::{Action, EntryKind, EntryStatus, GroupRole, Role, limits, schedule};
use crate::entities::{calendar_item, calendar_run, calendar_subscription as subscription, group};
use crate::error::{AppError, AppResult};
use crate::outbound::client::Validators;

/// What an owner asks to subscribe to.
#[derive(Clone, Debug)]
pub struct NewSubscription {
    pub url: String,
    pub kind: EntryKind,
    pub auto_approve: bool,
}

/// A subscription with its latest runs, newest first.
#[derive(Clone, Debug)]
pub struct SubscriptionView {
    pub subscription: subscription::Model,
    pub runs: Vec<calendar_run::Model>,
}

/// Whether the subscription's events are approved at once: the owner
/// asked for it and an admin allowed it.
pub fn approves_at_once(subscription: &subscription::Model) -> bool {
    subscription.auto_approve && subscription.auto_approve_allowed_by.is_some()
}

/// Only events and meetups have dates to take from a calendar.
fn check_kind(kind: EntryKind) -> AppResult<()> {
    if kind.is_dated() {
        Ok(())
    } else {
        Err(AppError::field("kind", "must be event or meetup"))
    }
}

/// A URL the fetcher would take: a calendar at a private or loopback
/// address is refused now rather than at its first run.
fn check_url(services: &Services, url: &str) -> AppResult<()> {
    let parsed = url::Url::parse(url).map_err(|_| AppError::field("url", "is not a URL"))?;
    if !matches!(parsed.scheme(), "https" | "http") || url.len() > limits::URL_CHARS {
        return Err(AppError::field(
            "url",
            "must be an http(s) URL of an iCalendar file",
        ));
    }
    match services.fetch.refusal(url) {
        Some(refusal) => Err(AppError::field(
            "url",
            format!("cannot be fetched: {refusal}"),
        )),
        None => Ok(()),
    }
}

/// Subscribes a group to a calendar (its owners and admins); an admin's
/// `auto_approve` is allowed at once, an owner's waits for an admin's.
pub async fn subscribe(
    services: &Services,
    principal: &Principal,
    slug: &str,
    new: NewSubscription,
) -> AppResult<SubscriptionView> {
    let group = groups::managed_group(services, principal, slug).await?;
    check_kind(new.kind)?;
    check_url(services, new.url.trim())?;
    let now = services.now();
    let saved = subscription::ActiveModel {
        group_id: Set(group.id),
        url: Set(new.url.trim().to_string()),
        kind: Set(new.kind),
        auto_approve: Set(new.auto_approve),
        auto_approve_allowed_by: Set(allowance(principal, new.auto_approve)),
        created_by: Set(principal.attributed_user_id()),
        etag: Set(None),
        last_modified: Set(None),
        next_fetch_at: Set(Some(now)),
        claimed_until: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&services.db)
    .await?;
    services.calendar_bell.notify_one();
    Ok(SubscriptionView {
        subscription: saved,
        runs: Vec::new(),
    })
}

/// Who allows approving at once when `principal` sets `auto_approve`: an admin only.
fn allowance(principal: &Principal, auto_approve: bool) -> Option<i64> {
    (auto_approve && principal.is_admin()).then(|| principal.attributed_user_id())
}

/// A group the principal may see the subscriptions of: its members and moderators.
async fn readable_group(
    services: &Services,
    principal: &Principal,
    slug: &str,
) -> AppResult<group::Model> {
    let group = lookup::group_by_slug(&services.db, slug).await?;
    if principal.can_write_entries(group.id) || principal.is_moderator() {
        Ok(group)
    } else {
        Err(AppError::Forbidden(
            "only the group's members and moderators may see its calendars".into(),
        ))
    }
}

/// The group's subscriptions (file imports included), oldest first.
pub async fn list(
    services: &Services,
    principal: &Principal,
    slug: &str,
) -> AppResult<Vec<subscription::Model>> {
    let group = readable_group(services, principal, slug).await?;
    Ok(subscription::Entity::find()
        .filter(subscription::Column::GroupId.eq(group.id))
        .order_by_asc(subscription::Column::Id)
        .all(&services.db)
        .await?)
}

async fn find(
    services: &Services,
    group: &group::Model,
    id: i64,
) -> AppResult<subscription::Model> {
    subscription::Entity::find_by_id(id)
        .filter(subscription::Column::GroupId.eq(group.id))
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::not_found("calendar"))
}

async fn with_runs(
    services: &Services,
    subscription: subscription::Model,
) -> AppResult<SubscriptionView> {
    let runs = calendar_run::Entity::find()
        .filter(calendar_run::Column::SubscriptionId.eq(subscription.id))
        .order_by_desc(calendar_run::Column::Id)
        .limit(limits::CALENDAR_RUNS_SHOWN)
        .all(&services.db)
        .await?;
    Ok(SubscriptionView { subscription, runs })
}

/// One subscription with its latest runs.
pub async fn get(
    services: &Services,
    principal: &Principal,
    slug: &str,
    id: i64,
) -> AppResult<SubscriptionView> {
    let group = readable_group(services, principal, slug).await?;
    let found = find(services, &group, id).await?;
    with_runs(services, found).await
}

/// What a change of a subscription changes; `None` keeps it.
#[derive(Clone, Debug, Default)]
pub struct SubscriptionChange {
    /// The kind of the entries its new events become.
    pub kind: Option<EntryKind>,
    /// The wish to approve at once: an admin's allows it, an owner's asks
    /// for it again (withdrawing an admin's allowance).
    pub auto_approve: Option<bool>,
}

/// Changes a subscription (its owners and admins).
pub async fn update(
    services: &Services,
    principal: &Principal,
    slug: &str,
    id: i64,
    change: SubscriptionChange,
) -> AppResult<SubscriptionView> {
    let group = groups::managed_group(services, principal, slug).await?;
    let found = find(services, &group, id).await?;
    let mut active: subscription::ActiveModel = found.into();
    if let Some(kind) = change.kind {
        check_kind(kind)?;
        active.kind = Set(kind);
    }
    if let Some(auto_approve) = change.auto_approve {
        active.auto_approve = Set(auto_approve);
        active.auto_approve_allowed_by = Set(allowance(principal, auto_approve));
    }
    let saved = active.update(&services.db).await?;
    with_runs(services, saved).await
}

/// Ends a subscription; the entries it brought stay.
pub async fn unsubscribe(
    services: &Services,
    principal: &Principal,
    slug: &str,
    id: i64,
) -> AppResult<()> {
    let group = groups::managed_group(services, principal, slug).await?;
    let found = find(services, &group, id).await?;
    calendar_run::Entity::delete_many()
        .filter(calendar_run::Column::SubscriptionId.eq(found.id))
        .exec(&services.db)
        .await?;
    calendar_item::Entity::delete_many()
        .filter(calendar_item::Column::SubscriptionId.eq(found.id))
        .exec(&services.db)
        .await?;
    subscription::Entity::delete_by_id(found.id)
        .exec(&services.db)
        .await?;
    Ok(())
}

/// Fetches a subscription now (its owners and admins) and returns the run.
pub async fn sync_now(
    services: &Services,
    principal: &Principal,
    slug: &str,
    id: i64,
) -> AppResult<calendar_run::Model> {
    let group = groups::managed_group(services, principal, slug).await?;
    let found = find(services, &group, id).await?;
    if found.url.is_empty() {
        return Err(AppError::InvalidTransition(
            "a file import has no URL to fetch: import the file again".into(),
        ));
    }
    // Claimed as the worker claims it, so that two runs never add one event twice.
    let now = services.now();
    let claimed = subscription::Entity::update_many()
        .col_expr(
            subscription::Column::ClaimedUntil,
            Expr::value(now + limits::CALENDAR_CLAIM_SECS),
        )
        .filter(subscription::Column::Id.eq(found.id))
        .filter(crate::db::unclaimed(
            subscription::Column::ClaimedUntil,
            now,
        ))
        .exec(&services.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Err(AppError::Conflict(
            "the calendar is being fetched right now: try again in a moment".into(),
        ));
    }
    run_subscription(services, found).await
}

/// Imports an uploaded calendar file once, into the group's file-import
/// record (so a second import of the same file finds its UIDs); events
/// missing from a file are not cancelled, since a file need not hold them all.
pub async fn import_file(
    services: &Services,
    principal: &Principal,
    slug: &str,
    kind: EntryKind,
    body: &[u8],
) -> AppResult<calendar_run::Model> {
    let group = groups::managed_group(services, principal, slug).await?;
    check_kind(kind)?;
    let existing = subscription::Entity::find()
        .filter(subscription::Column::GroupId.eq(group.id))
        .filter(subscription::Column::Url.eq(""))
        .one(&services.db)
        .await?;
    let record = match existing {
        Some(record) => {
            let mut active: subscription::ActiveModel = record.into();
            active.kind = Set(kind);
            active.update(&services.db).await?
        }
        None => {
            subscription::ActiveModel {
                group_id: Set(group.id),
                url: Set(String::new()),
                kind: Set(kind),
                auto_approve: Set(false),
                auto_approve_allowed_by: Set(None),
                created_by: Set(principal.attributed_user_id()),
                etag: Set(None),
                last_modified: Set(None),
                next_fetch_at: Set(None),
                claimed_until: Set(None),
                created_at: Set(services.now()),
                ..Default::default()
            }
            .insert(&services.db)
            .await?
        }
    };
    let started = services.now();
    let tally = apply_document(services, &record, &group, body, false).await?;
    save_run(services, &record, started, true, tally).await
}

/// What a run did.
#[derive(Debug, Default)]
struct Tally {
    new: i32,
    updated: i32,
    cancelled: i32,
    errors: Vec<String>,
}

impl Tally {
    fn note(&mut self, problem: String) {
        if self.errors.len() < calendar_source::MAX_PROBLEMS {
            self.errors.push(problem);
        }
    }
}

async fn save_run(
    services: &Services,
    record: &subscription::Model,
    started: i64,
    fetched: bool,
    tally: Tally,
) -> AppResult<calendar_run::Model> {
    Ok(calendar_run::ActiveModel {
        subscription_id: Set(record.id),
        started_at: Set(started),
        fetched: Set(fetched),
        new_count: Set(tally.new),
        updated_count: Set(tally.updated),
        cancelled_count: Set(tally.cancelled),
        errors: Set(tally.errors.join("\n")),
        ..Default::default()
    }
    .insert(&services.db)
    .await?)
}

/// Fetches a subscription (conditionally), applies what changed, logs the
/// run and schedules the next.
pub async fn run_subscription(
    services: &Services,
    record: subscription::Model,
) -> AppResult<calendar_run::Model> {
    let started = services.now();
    let group = group::Entity::find_by_id(record.group_id)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::not_found("group"))?;
    let validators = Validators {
        etag: record.etag.clone(),
        last_modified: record.last_modified.clone(),
    };
    let fetched = services
        .fetch
        .get_document(&record.url, &validators, limits::CALENDAR_MAX_BYTES)
        .await;
    let mut active: subscription::ActiveModel = record.clone().into();
    active.next_fetch_at = Set(Some(started + limits::CALENDAR_FETCH_SECS));
    active.claimed_until = Set(None);
    let (got_document, tally) = match fetched {
        Ok(Some(document)) => {
            let tally = apply_document(services, &record, &group, &document.body, true).await?;
            active.etag = Set(document.validators.etag);
            active.last_modified = Set(document.validators.last_modified);
            (true, tally)
        }
        Ok(None) => (false, Tally::default()),
        Err(failure) => {
            let mut tally = Tally::default();
            tally.note(format!("fetching failed: {failure}"));
            (false, tally)
        }
    };
    active.update(&services.db).await?;
    save_run(services, &record, started, got_document, tally).await
}

/// How the subscription acts on entries: as an owner of its group,
/// attributed to the person who subscribed.
fn source_principal(record: &subscription::Model, role: Role) -> Principal {
    Principal::User {
        id: record.created_by,
        name: format!("calendar {}", record.id),
        role,
        memberships: HashMap::from([(record.group_id, GroupRole::Owner)]),
    }
}

/// Applies a calendar document to the entries the subscription brought.
async fn apply_document(
    services: &Services,
    record: &subscription::Model,
    group: &group::Model,
    body: &[u8],
    cancel_missing: bool,
) -> AppResult<Tally> {
    let mut tally = Tally::default();
    let timing = services.timing();
    let reading = Reading {
        kind: record.kind,
        content_max_chars: services.config.content_max_chars,
        now: timing.now,
        event_default_secs: timing.event_default_secs,
    };
    let calendar = match calendar_source::read(&String::from_utf8_lossy(body), reading) {
        Ok(calendar) => calendar,
        Err(problem) => {
            tally.note(problem);
            return Ok(tally);
        }
    };
    for problem in calendar.problems {
        tally.note(problem);
    }
    let items: HashMap<String, calendar_item::Model> = calendar_item::Entity::find()
        .filter(calendar_item::Column::SubscriptionId.eq(record.id))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|item| (item.uid.clone(), item))
        .collect();
    let present: HashSet<&str> = calendar.events.iter().map(|e| e.uid.as_str()).collect();
    for event in &calendar.events {
        let outcome = match items.get(&event.uid) {
            None => add(services, record, group, event)
                .await
                .map(|()| tally.new += 1),
            Some(item) if item.source_hash == event.hash && !item.gone => Ok(()),
            Some(item) => change(services, record, item, event)
                .await
                .map(|()| tally.updated += 1),
        };
        if let Err(error) = outcome {
            tally.note(format!("{}: {}", event.uid, describe(&error)));
        }
    }
    if cancel_missing {
        for item in items
            .values()
            .filter(|item| !item.gone && !present.contains(item.uid.as_str()))
        {
            match cancel(services, record, item).await {
                Ok(cancelled) => tally.cancelled += i32::from(cancelled),
                Err(error) => tally.note(format!("{}: {}", item.uid, describe(&error))),
            }
        }
    }
    Ok(tally)
}

/// An error as a line of a run's log.
fn describe(error: &AppError) -> String {
    match error {
        AppError::Validation(errors) => errors
            .iter()
            .map(|error| format!("{} {}", error.field, error.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// A new source event: an entry of the group, sent to review (or approved).
async fn add(
    services: &Services,
    record: &subscription::Model,
    group: &group::Model,
    event: &SourceEvent,
) -> AppResult<()> {
    let principal = source_principal(record, Role::Member);
    let new = NewEntry {
        group: Some(group.slug.clone()),
        kind: Some(record.kind),
        version: None,
        patch: event.fields.clone().into(),
    };
    let mut view = entries::create_and_submit(services, &principal, new).await?;
    if approves_at_once(record) {
        view = approve(services, record, view.entry.id).await?;
    }
    calendar_item::ActiveModel {
        subscription_id: Set(record.id),
        uid: Set(event.uid.clone()),
        entry_id: Set(view.entry.id),
        source_hash: Set(event.hash.clone()),
        source_fields: Set(fields_json(&event.fields)?),
        entry_hash: Set(hash_of(&fields_of(&view.entry))),
        edited_here: Set(false),
        gone: Set(false),
        updated_at: Set(services.now()),
        ..Default::default()
    }
    .insert(&services.db)
    .await?;
    Ok(())
}

fn fields_json(fields: &EntryFields) -> AppResult<String> {
    serde_json::to_string(fields).map_err(|error| AppError::internal("unwritable fields", error))
}

async fn approve(
    services: &Services,
    record: &subscription::Model,
    id: i64,
) -> AppResult<EntryView> {
    let approver = source_principal(record, Role::Moderator);
    entries::act(
        services,
        &approver,
        id,
        Action::Approve,
        &ActionRequest::default(),
    )
    .await
}

/// A changed source event: the source wins until the entry is edited here,
/// after which its version goes to review as an edit.
async fn change(
    services: &Services,
    record: &subscription::Model,
    item: &calendar_item::Model,
    event: &SourceEvent,
) -> AppResult<()> {
    let principal = source_principal(record, Role::Member);
    let current = entries::get(services, &principal, item.entry_id).await?;
    let working = fields_of(&current.entry);
    let edited_here = item.edited_here || hash_of(&working) != item.entry_hash;
    let proposed = if edited_here {
        let old_source = serde_json::from_str(&item.source_fields)
            .map_err(|error| AppError::internal("unreadable source fields", error))?;
        merge_change(&working, &old_source, &event.fields)
    } else {
        event.fields.clone()
    };
    let request = EditRequest {
        version: Some(current.entry.version),
        patch: proposed.into(),
        ..EditRequest::default()
    };
    let mut view = entries::update_and_submit(services, &principal, item.entry_id, request).await?;
    if approves_at_once(record) && !edited_here && view.entry.status == EntryStatus::Pending {
        view = approve(services, record, view.entry.id).await?;
    }
    let mut active: calendar_item::ActiveModel = item.clone().into();
    active.source_hash = Set(event.hash.clone());
    active.source_fields = Set(fields_json(&event.fields)?);
    active.entry_hash = Set(hash_of(&fields_of(&view.entry)));
    active.edited_here = Set(edited_here);
    active.gone = Set(false);
    active.updated_at = Set(services.now());
    active.update(&services.db).await?;
    Ok(())
}

/// A source event that is gone: its entry is cancelled, live at once,
/// unless it is over. Whether it was cancelled.
async fn cancel(
    services: &Services,
    record: &subscription::Model,
    item: &calendar_item::Model,
) -> AppResult<bool> {
    let principal = source_principal(record, Role::Member);
    let current = entries::get(services, &principal, item.entry_id).await?;
    let timing = services.timing();
    let over = schedule::event_end(&fields_of(&current.entry), timing.event_default_secs)
        .is_some_and(|end| end <= timing.now);
    if over {
        // Sources drop what is over (Meetup does); that is no cancellation.
        return mark_gone(services, item, &current.entry)
            .await
            .map(|()| false);
    }
    let version = Some(current.entry.version);
    let view = if current.entry.in_feed {
        let change = LiveChange {
            version,
            event_status: Some("cancelled".into()),
            ..LiveChange::default()
        };
        entries::change_live(services, &principal, item.entry_id, &change).await?
    } else {
        let request = EditRequest {
            version,
            patch: EntryPatch {
                event_status: Some(Some("cancelled".into())),
                ..EntryPatch::default()
            },
            ..EditRequest::default()
        };
        entries::update(services, &principal, item.entry_id, request).await?
    };
    mark_gone(services, item, &view.entry).await.map(|()| true)
}

async fn mark_gone(
    services: &Services,
    item: &calendar_item::Model,
    entry: &crate::entities::entry::Model,
) -> AppResult<()> {
    let mut active: calendar_item::ActiveModel = item.clone().into();
    active.gone = Set(true);
    active.entry_hash = Set(hash_of(&fields_of(entry)));
    active.updated_at = Set(services.now());
    active.update(&services.db).await?;
    Ok(())
}

/// Claims the subscriptions due now for this worker (once across instances).
pub async fn claim_due(services: &Services) -> AppResult<Vec<subscription::Model>> {
    let now = services.now();
    let mut chosen = Query::select();
    chosen
        .column(subscription::Column::Id)
        .from(subscription::Entity)
        .and_where(Expr::col(subscription::Column::NextFetchAt).lte(now))
        .and_where(Expr::col(subscription::Column::Url).ne(""))
        .cond_where(crate::db::unclaimed(
            subscription::Column::ClaimedUntil,
            now,
        ))
        .limit(10);
    Ok(crate::db::claim::<subscription::Entity>(
        &services.db,
        chosen,
        subscription::Column::Id,
        subscription::Column::ClaimedUntil,
        now + limits::CALENDAR_CLAIM_SECS,
        now,
    )
    .await?)
}

/// When the next subscription is due, if any is scheduled.
pub async fn next_due(services: &Services) -> AppResult<Option<i64>> {
    let next = subscription::Entity::find()
        .filter(subscription::Column::NextFetchAt.is_not_null())
        .filter(subscription::Column::Url.ne(""))
        .order_by_asc(subscription::Column::NextFetchAt)
        .one(&services.db)
        .await?;
    Ok(next.and_then(|record| record.next_fetch_at))
}
