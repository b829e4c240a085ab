//! Sends the delivery queue: claims what is due, sends it, records the
//! outcome, and sleeps until the next delivery is due (by the queue's
//! clock) or the next look for new work.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::client::{Client, Failure, Signer};
use super::syndication::{self, Job, Posted};
use crate::clock::Clock;
use crate::domain::limits::{DELIVERY_BATCH, DELIVERY_POLL_MILLIS};
use crate::error::AppResult;

/// One request to send.
pub struct Outgoing {
    pub id: i64,
    /// Where it goes (for the log).
    pub target: String,
    pub request: Request,
}

/// What a delivery sends.
pub enum Request {
    /// A body POSTed to the target, signed when a signer is given.
    Post {
        content_type: &'static str,
        body: Vec<u8>,
        signer: Option<Arc<Signer>>,
    },
    /// A post made (or deleted) on a social network.
    Syndicate(Box<Job>),
}

/// Where the worker takes deliveries from and records what became of them.
pub trait DeliveryQueue: Send + Sync + 'static {
    fn claim_due(&self) -> impl Future<Output = AppResult<Vec<Outgoing>>> + Send;
    /// Records a delivery as done; `posted` is the post it made on a network.
    fn delivered(
        &self,
        id: i64,
        posted: Option<Posted>,
    ) -> impl Future<Output = AppResult<()>> + Send;
    fn attempt_failed(
        &self,
        id: i64,
        failure: &Failure,
    ) -> impl Future<Output = AppResult<()>> + Send;
    fn next_due(&self) -> impl Future<Output = AppResult<Option<i64>>> + Send;
    fn clock(&self) -> &Clock;
    /// Wakes the worker early (new work was queued).
    fn wake(&self) -> &tokio::sync::Notify;
    fn round_done(&self);
}

/// Starts the worker on `queue`; it runs until the returned task is aborted.
pub fn spawn<Q: DeliveryQueue>(queue: Arc<Q>, client: Client) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let sent = match round(queue.as_ref(), &client).await {
                Ok(sent) => sent,
                Err(error) => {
                    tracing::error!(%error, "delivery round failed");
                    0
                }
            };
            queue.round_done();
            if sent >= DELIVERY_BATCH as usize {
                continue;
            }
            let due = queue.next_due().await.ok().flatten();
            let poll = Duration::from_millis(DELIVERY_POLL_MILLIS);
            queue.clock().idle(due, Some(queue.wake()), poll).await;
        }
    })
}

/// Sends what is due now, several at once; returns how many it handled.
async fn round(queue: &impl DeliveryQueue, client: &Client) -> AppResult<usize> {
    let due = queue.claim_due().await?;
    let count = due.len();
    let sends = due.into_iter().map(|outgoing| async move {
        let result = match outgoing.request {
            Request::Post {
                content_type,
                body,
                signer,
            } => client
                .post(&outgoing.target, content_type, body, signer.as_deref())
                .await
                .map(|()| None),
            Request::Syndicate(job) => syndication::run(client, &job).await,
        };
        (outgoing.id, outgoing.target, result)
    });
    for (id, target, result) in futures_util::future::join_all(sends).await {
        match result {
            Ok(posted) => queue.delivered(id, posted).await?,
            Err(failure) => {
                tracing::warn!(%target, %failure, "delivery failed; will retry");
                queue.attempt_failed(id, &failure).await?;
            }
        }
    }
    Ok(count)
}
