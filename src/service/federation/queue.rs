//! The delivery queue: requests to other servers (fediverse inboxes,
//! WebSub hubs) written in the same transaction as the change that causes
//! them, claimed by one worker each (as the mail outbox is), retried with
//! back-off, and given up after days: a follower inbox that keeps failing
//! is dropped with its followers, and counted.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{LocalActor, SITE_KEY};
use crate::db;
use crate::domain::limits::{DELIVERY_BATCH, DELIVERY_CLAIM_SECS};
use crate::domain::{DeliveryKind, DeliveryStatus, delivery};
use crate::entities::{delivery as row, follower, group};
use crate::error::AppResult;
use crate::outbound::client::{Failure, Signer};
use crate::outbound::worker::{DeliveryQueue, Outgoing};
use crate::service::Services;

/// What the worker needs beside the table: a bell rung when work is
/// queued, and the counts `/metrics` shows.
#[derive(Default)]
pub struct Deliveries {
    pub wake: tokio::sync::Notify,
    /// By kind (ActivityPub, WebSub) and outcome (done, retried, failed, dropped).
    pub outcomes: [[AtomicU64; 4]; 2],
    /// Followers dropped because their inbox failed for days.
    pub followers_dropped: AtomicU64,
    pub rounds: AtomicU64,
}

impl Deliveries {
    fn count(&self, kind: DeliveryKind, status: DeliveryStatus) {
        let kind = match kind {
            DeliveryKind::ActivityPub => 0,
            DeliveryKind::WebSub => 1,
        };
        let outcome = match status {
            DeliveryStatus::Done => 0,
            DeliveryStatus::Pending => 1,
            DeliveryStatus::Failed => 2,
            DeliveryStatus::Dropped => 3,
        };
        self.outcomes[kind][outcome].fetch_add(1, Ordering::Relaxed);
    }
}

/// A delivery to queue.
pub struct Delivery {
    pub kind: DeliveryKind,
    pub target: String,
    pub actor: Option<String>,
    pub body: String,
    pub entry_id: Option<i64>,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    services: &Services,
    delivery: Delivery,
) -> AppResult<()> {
    let now = services.now();
    row::ActiveModel {
        kind: Set(delivery.kind),
        target: Set(delivery.target),
        actor: Set(delivery.actor),
        body: Set(delivery.body),
        entry_id: Set(delivery.entry_id),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        done_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes the due, unclaimed rows (at most a batch) for this worker.
async fn claim(services: &Services, now: i64) -> AppResult<Vec<row::Model>> {
    let mut chosen = Query::select();
    chosen
        .column(row::Column::Id)
        .from(row::Entity)
        .cond_where(
            Condition::all()
                .add(row::Column::Status.eq(DeliveryStatus::Pending))
                .add(row::Column::NextAttemptAt.lte(now))
                .add(db::unclaimed(row::Column::ClaimedUntil, now)),
        )
        .order_by(row::Column::Id, sea_orm::Order::Asc)
        .limit(DELIVERY_BATCH);
    let mut claimed = db::claim::<row::Entity>(
        &services.db,
        chosen,
        row::Column::Id,
        row::Column::ClaimedUntil,
        now + DELIVERY_CLAIM_SECS,
        now,
    )
    .await?;
    claimed.sort_by_key(|found| found.id);
    Ok(claimed)
}

/// The local actor a stored key names (`site`, `group:<id>`).
async fn actor_of_key(services: &Services, key: &str) -> AppResult<Option<LocalActor>> {
    if key == SITE_KEY {
        return Ok(Some(LocalActor::site(services)));
    }
    let Some(id) = key
        .strip_prefix("group:")
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return Ok(None);
    };
    Ok(group::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .map(|group| LocalActor::of_group(services, group)))
}

/// Claims what is due, with the key each is signed with (read once per actor).
pub async fn claim_due(services: &Services) -> AppResult<Vec<Outgoing>> {
    let rows = claim(services, services.now()).await?;
    let mut signers: HashMap<String, Option<Arc<Signer>>> = HashMap::new();
    let mut due = Vec::with_capacity(rows.len());
    for found in rows {
        let signer = match &found.actor {
            None => None,
            Some(key) => match signers.get(key) {
                Some(signer) => signer.clone(),
                None => {
                    let signer = match actor_of_key(services, key).await? {
                        Some(actor) => Some(super::signer(services, &actor).await?),
                        None => None,
                    };
                    signers.insert(key.clone(), signer.clone());
                    signer
                }
            },
        };
        due.push(Outgoing {
            id: found.id,
            target: found.target,
            content_type: match found.kind {
                DeliveryKind::ActivityPub => crate::domain::federation::documents::ACTIVITY_JSON,
                DeliveryKind::WebSub => "application/x-www-form-urlencoded",
            },
            body: found.body.into_bytes(),
            signer,
        });
    }
    Ok(due)
}

/// Records a delivery as done.
pub async fn delivered(services: &Services, id: i64) -> AppResult<()> {
    let Some(found) = row::Entity::find_by_id(id).one(&services.db).await? else {
        return Ok(());
    };
    services.deliveries.count(found.kind, DeliveryStatus::Done);
    let mut active: row::ActiveModel = found.into();
    active.status = Set(DeliveryStatus::Done);
    active.attempts = Set(active.attempts.as_ref() + 1);
    active.claimed_until = Set(None);
    active.last_error = Set(None);
    active.done_at = Set(Some(services.now()));
    active.update(&services.db).await?;
    Ok(())
}

/// Records a failed attempt: retried later, failed for good, or dropped
/// with the followers behind its inbox when it failed for days.
pub async fn attempt_failed(services: &Services, id: i64, failure: &Failure) -> AppResult<()> {
    let Some(found) = row::Entity::find_by_id(id).one(&services.db).await? else {
        return Ok(());
    };
    let now = services.now();
    let attempts = found.attempts + 1;
    let (status, delay) = delivery::after_failure(
        attempts,
        now - found.created_at,
        failure.retry_after,
        failure.is_permanent(),
    );
    services.deliveries.count(found.kind, status);
    if status == DeliveryStatus::Dropped && found.kind == DeliveryKind::ActivityPub {
        let dropped = follower::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(follower::Column::Inbox.eq(found.target.as_str()))
                    .add(follower::Column::SharedInbox.eq(found.target.as_str())),
            )
            .exec(&services.db)
            .await?;
        services
            .deliveries
            .followers_dropped
            .fetch_add(dropped.rows_affected, Ordering::Relaxed);
        tracing::warn!(inbox = %found.target, followers = dropped.rows_affected, "inbox failing for days: its followers are dropped");
    }
    let error: String = failure.message.chars().take(2000).collect();
    let mut active: row::ActiveModel = found.into();
    active.status = Set(status);
    active.attempts = Set(attempts);
    active.claimed_until = Set(None);
    active.next_attempt_at = Set(now + delay);
    active.last_error = Set(Some(error));
    active.update(&services.db).await?;
    Ok(())
}

/// Puts a failed or dropped delivery back in the queue, due now (an admin's retry).
pub async fn retry(services: &Services, id: i64) -> AppResult<bool> {
    let now = services.now();
    let changed = row::Entity::update_many()
        .col_expr(row::Column::Status, DeliveryStatus::Pending.into())
        .col_expr(row::Column::NextAttemptAt, now.into())
        .col_expr(row::Column::CreatedAt, now.into())
        .filter(row::Column::Id.eq(id))
        .filter(row::Column::Status.is_in([DeliveryStatus::Failed, DeliveryStatus::Dropped]))
        .exec(&services.db)
        .await?;
    services.deliveries.wake.notify_one();
    Ok(changed.rows_affected == 1)
}

/// The most recent deliveries that did not go through, newest first.
pub async fn failures(services: &Services, limit: u64) -> AppResult<Vec<row::Model>> {
    Ok(row::Entity::find()
        .filter(row::Column::Status.is_in([DeliveryStatus::Failed, DeliveryStatus::Dropped]))
        .order_by_desc(row::Column::Id)
        .limit(limit)
        .all(&services.db)
        .await?)
}

/// How many deliveries wait, and since when the oldest does (for `/metrics`).
pub async fn backlog(services: &Services) -> AppResult<(u64, Option<i64>)> {
    let pending = || row::Entity::find().filter(row::Column::Status.eq(DeliveryStatus::Pending));
    let count = pending().count(&services.db).await?;
    let oldest = pending()
        .select_only()
        .column_as(row::Column::CreatedAt.min(), "oldest")
        .into_tuple::<Option<i64>>()
        .one(&services.db)
        .await?
        .flatten();
    Ok((count, oldest))
}

/// When the next pending delivery is due, if any.
pub async fn next_due(services: &Services) -> AppResult<Option<i64>> {
    Ok(row::Entity::find()
        .select_only()
        .column_as(row::Column::NextAttemptAt.min(), "due")
        .filter(row::Column::Status.eq(DeliveryStatus::Pending))
        .into_tuple::<Option<i64>>()
        .one(&services.db)
        .await?
        .flatten())
}

/// The delivery table as the worker's queue.
impl DeliveryQueue for Services {
    async fn claim_due(&self) -> AppResult<Vec<Outgoing>> {
        claim_due(self).await
    }

    async fn delivered(&self, id: i64) -> AppResult<()> {
        delivered(self, id).await
    }

    async fn attempt_failed(&self, id: i64, failure: &Failure) -> AppResult<()> {
        attempt_failed(self, id, failure).await
    }

    async fn next_due(&self) -> AppResult<Option<i64>> {
        next_due(self).await
    }

    fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    fn wake(&self) -> &tokio::sync::Notify {
        &self.deliveries.wake
    }

    fn round_done(&self) {
        self.deliveries.rounds.fetch_add(1, Ordering::Relaxed);
    }
}
