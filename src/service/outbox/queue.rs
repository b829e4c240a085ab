//! The worker's side of the outbox: claim what is due (each row taken by
//! one worker only, so two instances never send one mail twice), then
//! record each attempt.

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, Set,
};

use super::Services;
use crate::db;
use crate::domain::limits::{MAIL_BATCH, MAIL_CLAIM_SECS};
use crate::domain::{OutboxStatus, mail};
use crate::entities::outbox;
use crate::error::{AppError, AppResult};
use crate::mail::queue::{MailQueue, Outgoing};
use crate::mail::templates::{self, Composed, Mail};

/// Takes the pending, unclaimed rows `matching` (at most `limit`, oldest
/// first) for this worker until the claim expires.
async fn claim(
    services: &Services,
    matching: Condition,
    limit: Option<u64>,
    now: i64,
) -> AppResult<Vec<outbox::Model>> {
    let mut chosen = Query::select();
    chosen
        .column(outbox::Column::Id)
        .from(outbox::Entity)
        .cond_where(
            Condition::all()
                .add(outbox::Column::Status.eq(OutboxStatus::Pending))
                .add(db::unclaimed(outbox::Column::ClaimedUntil, now))
                .add(matching),
        )
        .order_by(outbox::Column::Id, sea_orm::Order::Asc);
    if let Some(limit) = limit {
        chosen.limit(limit);
    }
    let mut claimed = db::claim::<outbox::Entity>(
        &services.db,
        chosen,
        outbox::Column::Id,
        outbox::Column::ClaimedUntil,
        now + MAIL_CLAIM_SECS,
        now,
    )
    .await?;
    claimed.sort_by_key(|row| row.id);
    Ok(claimed)
}

/// Claims the mail that is due and returns it as messages: rows with one
/// digest key go out together (when the first is due, everything collected
/// under its key goes with it). Two statements, however many rows.
pub async fn claim_due(services: &Services) -> AppResult<Vec<Outgoing>> {
    let now = services.now();
    let due = claim(
        services,
        Condition::all().add(outbox::Column::NextAttemptAt.lte(now)),
        Some(MAIL_BATCH),
        now,
    )
    .await?;
    let keys: Vec<String> = due
        .iter()
        .filter_map(|row| row.digest_key.clone())
        .collect();
    let siblings = if keys.is_empty() {
        Vec::new()
    } else {
        claim(
            services,
            Condition::all().add(outbox::Column::DigestKey.is_in(keys)),
            None,
            now,
        )
        .await?
    };
    let mut messages = Vec::new();
    let mut digests: Vec<(String, Vec<outbox::Model>)> = Vec::new();
    for row in due.into_iter().chain(siblings) {
        match row.digest_key.clone() {
            None => messages.push(Outgoing {
                ids: vec![row.id],
                recipient: row.recipient,
                rendered: Composed {
                    subject: row.subject,
                    text: row.text_body,
                    html: row.html_body,
                },
            }),
            Some(key) => match digests.iter_mut().find(|(known, _)| *known == key) {
                Some((_, rows)) => rows.push(row),
                None => digests.push((key, vec![row])),
            },
        }
    }
    for (_, mut rows) in digests {
        rows.sort_by_key(|row| row.id);
        messages.push(digest(&super::sender(services), rows)?);
    }
    Ok(messages)
}

/// One message for rows collected under one digest key.
fn digest(site: &templates::Site, rows: Vec<outbox::Model>) -> AppResult<Outgoing> {
    let ids = rows.iter().map(|row| row.id).collect();
    let mut merged: Option<templates::Submissions> = None;
    for row in &rows {
        let part: templates::Submissions = serde_json::from_str(&row.data)
            .map_err(|error| AppError::internal("unreadable digest part", error))?;
        match &mut merged {
            None => merged = Some(part),
            Some(all) => all.items.extend(part.items),
        }
    }
    let first = rows
        .into_iter()
        .next()
        .ok_or_else(|| AppError::internal("empty digest", "no rows"))?;
    if let Some(all) = &mut merged {
        // An entry sent to review again within the window is listed once, as last sent.
        let mut seen = std::collections::HashSet::new();
        all.items.reverse();
        all.items.retain(|item| seen.insert(item.entry_id));
        all.items.reverse();
    }
    let rendered = match merged {
        Some(all) if all.items.len() > 1 => all
            .compose(site)
            .map_err(|error| AppError::internal("cannot render a digest", error))?,
        _ => Composed {
            subject: first.subject,
            text: first.text_body,
            html: first.html_body,
        },
    };
    Ok(Outgoing {
        ids,
        recipient: first.recipient,
        rendered,
    })
}

/// Counts an attempt on every row of `message`, releases its claim and
/// applies `outcome` (given the row and its attempt count).
async fn record_attempt(
    services: &Services,
    message: &Outgoing,
    outcome: impl Fn(&mut outbox::ActiveModel, i32),
) -> AppResult<()> {
    for id in &message.ids {
        let Some(row) = outbox::Entity::find_by_id(*id).one(&services.db).await? else {
            continue;
        };
        let attempts = row.attempts + 1;
        let mut active: outbox::ActiveModel = row.into();
        active.attempts = Set(attempts);
        active.claimed_until = Set(None);
        outcome(&mut active, attempts);
        active.update(&services.db).await?;
    }
    Ok(())
}

/// Records that `message` went out (`Sent`) or to the log (`Logged`).
pub async fn delivered(
    services: &Services,
    message: &Outgoing,
    status: OutboxStatus,
) -> AppResult<()> {
    let now = services.now();
    record_attempt(services, message, |active, _| {
        active.status = Set(status);
        active.sent_at = Set(Some(now));
        active.last_error = Set(None);
    })
    .await
}

/// Records a failed attempt: retried later with back-off, or failed for good.
pub async fn attempt_failed(services: &Services, message: &Outgoing, error: &str) -> AppResult<()> {
    let now = services.now();
    let error: String = error.chars().take(2000).collect();
    record_attempt(services, message, |active, attempts| {
        active.status = Set(mail::after_failure(attempts));
        active.next_attempt_at = Set(now + mail::retry_after(attempts).unwrap_or(0));
        active.last_error = Set(Some(error.clone()));
    })
    .await
}

/// When the next pending mail is due, if any.
pub async fn next_due(services: &Services) -> AppResult<Option<i64>> {
    Ok(outbox::Entity::find()
        .select_only()
        .column_as(outbox::Column::NextAttemptAt.min(), "due")
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .into_tuple::<Option<i64>>()
        .one(&services.db)
        .await?
        .flatten())
}

/// The outbox as the mail worker's queue.
impl MailQueue for Services {
    async fn claim_due(&self) -> AppResult<Vec<Outgoing>> {
        claim_due(self).await
    }

    async fn delivered(&self, message: &Outgoing, status: OutboxStatus) -> AppResult<()> {
        delivered(self, message, status).await
    }

    async fn attempt_failed(&self, message: &Outgoing, error: &str) -> AppResult<()> {
        attempt_failed(self, message, error).await
    }

    async fn next_due(&self) -> AppResult<Option<i64>> {
        next_due(self).await
    }

    fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    fn round_done(&self) {
        self.counters
            .mail_rounds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
