//! What the mail worker needs of the outbox, as a trait the composition
//! root gives it (the services implement it): the worker sends, the
//! outbox belongs to the services, and neither layer reaches into the other.

use std::future::Future;

use super::templates::Composed;
use crate::clock::Clock;
use crate::domain::OutboxStatus;
use crate::error::AppResult;

/// A message the worker sends: one row, or a digest of several.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub ids: Vec<i64>,
    pub recipient: String,
    pub rendered: Composed,
}

/// Where the worker takes mail from and records what became of it.
pub trait MailQueue: Send + Sync + 'static {
    /// Claims what is due (each row for this worker only) as messages.
    fn claim_due(&self) -> impl Future<Output = AppResult<Vec<Outgoing>>> + Send;
    /// Records that `message` went out (`Sent`) or to the log (`Logged`).
    fn delivered(
        &self,
        message: &Outgoing,
        status: OutboxStatus,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// Records a failed attempt (retried later, or failed for good).
    fn attempt_failed(
        &self,
        message: &Outgoing,
        error: &str,
    ) -> impl Future<Output = AppResult<()>> + Send;
    /// When the next pending mail is due, if any.
    fn next_due(&self) -> impl Future<Output = AppResult<Option<i64>>> + Send;
    /// The clock due times are read on (tests move it).
    fn clock(&self) -> &Clock;
    /// Counts a finished round (for monitoring, and for tests to wait on).
    fn round_done(&self);
}
