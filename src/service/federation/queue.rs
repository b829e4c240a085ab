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
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub use super::enqueue::{Delivery, insert, retry};
use super::{LocalActor, SITE_KEY};
use crate::db;
use crate::domain::limits::{DELIVERY_BATCH, DELIVERY_CLAIM_SECS};
use crate::domain::{DeliveryKind, DeliveryStatus, delivery};
use crate::entities::{delivery as row, follower, group};
use crate::error::AppResult;
use crate::outbound::client::{Failure, Signer};
use crate::outbound::syndication::Posted;
use crate::outbound::worker::{DeliveryQueue, Outgoing, Request};
use crate::service::Services;

/// What the worker needs beside the table: a bell rung when work is
/// queued, and the counts `/metrics` shows.
#[derive(Default)]
pub struct Deliveries {
    pub wake: tokio::sync::Notify,
    /// By kind (ActivityPub, WebSub, syndication) and outcome (done, retried, failed, dropped).
    pub outcomes: [[AtomicU64; 4]; 3],
    /// Followers dropped because their inbox failed for days.
    pub followers_dropped: AtomicU64,
    pub rounds: AtomicU64,
}

impl Deliveries {
    fn count(&self, kind: DeliveryKind, status: DeliveryStatus) {
        let kind = match kind {
            DeliveryKind::ActivityPub => 0,
            DeliveryKind::WebSub => 1,
            DeliveryKind::Syndication => 2,
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
        let content_type = match found.kind {
            DeliveryKind::ActivityPub => crate::domain::federation::documents::ACTIVITY_JSON,
            DeliveryKind::WebSub => "application/x-www-form-urlencoded",
            DeliveryKind::Syndication => {
                match crate::service::syndication::job(services, &found).await? {
                    Some(job) => due.push(Outgoing {
                        id: found.id,
                        target: found.target,
                        request: Request::Syndicate(Box::new(job)),
                    }),
                    // Nothing to send any more (the post was cancelled, its account removed).
                    None => delivered(services, found.id, None).await?,
                }
                continue;
            }
        };
        due.push(Outgoing {
            id: found.id,
            target: found.target,
            request: Request::Post {
                content_type,
                body: found.body.into_bytes(),
                signer,
            },
        });
    }
    Ok(due)
}

/// Records a delivery as done (and the post it made on a network).
pub async fn delivered(services: &Services, id: i64, posted: Option<Posted>) -> AppResult<()> {
    let Some(found) = row::Entity::find_by_id(id).one(&services.db).await? else {
        return Ok(());
    };
    services.deliveries.count(found.kind, DeliveryStatus::Done);
    if found.kind == DeliveryKind::Syndication {
        crate::service::syndication::sent(services, &found, posted).await?;
    }
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
    // A network refusing the account's credentials will not change its mind.
    let refused = found.kind == DeliveryKind::Syndication
        && failure
            .status
            .is_some_and(|status| matches!(status, 401 | 403));
    let (status, delay) = delivery::after_failure(
        attempts,
        now - found.created_at,
        failure.retry_after,
        failure.is_permanent() || refused,
    );
    services.deliveries.count(found.kind, status);
    if found.kind == DeliveryKind::Syndication {
        crate::service::syndication::not_sent(services, &found, status, &failure.message).await?;
    }
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

    async fn delivered(&self, id: i64, posted: Option<Posted>) -> AppResult<()> {
        delivered(self, id, posted).await
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
