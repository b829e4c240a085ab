//! Attempt counting per key (a client address, an account) over a fixed
//! window: failed logins, public access requests. Counters live in the
//! database, so every instance on one database shares one budget, and an
//! attempt is reserved (counted) atomically *before* the work it guards:
//! twenty simultaneous requests against a limit of ten get ten refusals.

use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::clock::Clock;
use crate::entities::rate_limit::{self, Column};
use crate::error::AppResult;

/// Expired counters are deleted on one reservation in this many.
const PRUNE_EVERY: u32 = 256;

/// At most `max` attempts per key in `window_secs`, for keys under `prefix`.
pub struct Limit {
    prefix: &'static str,
    max: u32,
    window_secs: i64,
    clock: Clock,
    reservations: AtomicU32,
}

/// The answer to a reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserved {
    /// Counted; go ahead.
    Granted,
    /// The window is full: try again in this many seconds.
    Full { retry_after: u64 },
}

impl Limit {
    pub fn new(prefix: &'static str, max: u32, window_secs: i64, clock: Clock) -> Self {
        Self {
            prefix,
            max,
            window_secs,
            clock,
            reservations: AtomicU32::new(0),
        }
    }

    /// The stored key: a hash, so that any text a client sends (NUL, a
    /// megabyte of email address) makes a short, storable key.
    fn key(&self, subject: &str) -> String {
        format!("{}:{}", self.prefix, super::tokens::sha256_hex(subject))
    }

    /// Counts one attempt for `subject` unless its window is full.
    pub async fn reserve(&self, db: &DatabaseConnection, subject: &str) -> AppResult<Reserved> {
        let key = self.key(subject);
        let now = self.clock.now();
        let expired =
            Expr::col((rate_limit::Entity, Column::WindowStarted)).lte(now - self.window_secs);
        let attempts = Expr::col((rate_limit::Entity, Column::Attempts));
        // One statement, so concurrent reservations cannot both take the last attempt.
        let mut upsert = Query::insert();
        upsert
            .into_table(rate_limit::Entity)
            .columns([Column::Key, Column::WindowStarted, Column::Attempts])
            .values([key.clone().into(), now.into(), 1.into()])
            .map_err(|error| crate::AppError::internal("rate limit statement", error))?
            .on_conflict(
                OnConflict::column(Column::Key)
                    .value(
                        Column::Attempts,
                        Expr::case(expired.clone(), 1).finally(attempts.clone().add(1)),
                    )
                    .value(
                        Column::WindowStarted,
                        Expr::case(expired.clone(), now)
                            .finally(Expr::col((rate_limit::Entity, Column::WindowStarted))),
                    )
                    .action_and_where(expired.or(attempts.lt(self.max)))
                    .to_owned(),
            )
            .returning_col(Column::Attempts);
        let statement = db.get_database_backend().build(&upsert);
        let counted = db.query_one_raw(statement).await?.is_some();
        self.maybe_prune(db, now).await?;
        if counted {
            return Ok(Reserved::Granted);
        }
        let started = rate_limit::Entity::find_by_id(key)
            .one(db)
            .await?
            .map_or(now, |row| row.window_started);
        let retry_after = std::cmp::max(
            1,
            u64::try_from(started + self.window_secs - now).unwrap_or(0),
        );
        Ok(Reserved::Full { retry_after })
    }

    /// Gives back one reserved attempt (the guarded work succeeded, or was not done).
    pub async fn release(&self, db: &DatabaseConnection, subject: &str) -> AppResult<()> {
        rate_limit::Entity::update_many()
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1))
            .filter(Column::Key.eq(self.key(subject)))
            .filter(Column::Attempts.gt(0))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Forgets every attempt of `subject`.
    pub async fn reset(&self, db: &DatabaseConnection, subject: &str) -> AppResult<()> {
        rate_limit::Entity::delete_by_id(self.key(subject))
            .exec(db)
            .await?;
        Ok(())
    }

    async fn maybe_prune(&self, db: &impl ConnectionTrait, now: i64) -> AppResult<()> {
        if self.reservations.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            rate_limit::Entity::delete_many()
                .filter(Column::Key.starts_with(format!("{}:", self.prefix)))
                .filter(Column::WindowStarted.lte(now - self.window_secs))
                .exec(db)
                .await?;
        }
        Ok(())
    }
}
