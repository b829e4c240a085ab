//! The producing side of the delivery queue: a delivery is queued in the
//! transaction of the change that causes it, and a failed one is put back
//! (apart from the sending side in [`super::queue`], so that what the
//! sending side calls on may queue deliveries of its own).

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::domain::{DeliveryKind, DeliveryStatus};
use crate::entities::delivery as row;
use crate::error::AppResult;
use crate::service::Services;

/// A delivery to queue.
pub struct Delivery {
    pub kind: DeliveryKind,
    pub target: String,
    pub actor: Option<String>,
    pub body: String,
    pub entry_id: Option<i64>,
}

/// Queues `delivery`; returns its id.
pub async fn insert(
    db: &impl ConnectionTrait,
    services: &Services,
    delivery: Delivery,
) -> AppResult<i64> {
    let now = services.now();
    Ok(row::ActiveModel {
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
    .await
    .map(|row| row.id)?)
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
