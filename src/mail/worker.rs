//! Sends the outbox: claims what is due, sends it, records the outcome, and
//! sleeps until the next mail is due (by the services' clock, so tests move
//! back-off forward without waiting) or the next look for new mail.

use std::sync::Arc;
use std::time::Duration;

use super::queue::MailQueue;
use super::transport::{Delivery, Transport};
use crate::domain::OutboxStatus;
use crate::domain::limits::{MAIL_BATCH, MAIL_POLL_MILLIS};

/// Starts the worker on `queue`; it runs until the returned task is aborted.
pub fn spawn<Q: MailQueue>(queue: Arc<Q>, transport: Transport) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let sent = match round(queue.as_ref(), &transport).await {
                Ok(sent) => sent,
                Err(error) => {
                    tracing::error!(%error, "mail worker round failed");
                    0
                }
            };
            queue.round_done();
            if sent >= MAIL_BATCH as usize {
                continue;
            }
            let due = queue.next_due().await.ok().flatten();
            let poll = Duration::from_millis(MAIL_POLL_MILLIS);
            queue.clock().idle(due, None, poll).await;
        }
    })
}

/// Sends what is due now; returns how many messages it handled.
async fn round(queue: &impl MailQueue, transport: &Transport) -> crate::AppResult<usize> {
    let messages = queue.claim_due().await?;
    for message in &messages {
        match transport.send(message).await {
            Ok(delivery) => {
                let status = match delivery {
                    Delivery::Sent => OutboxStatus::Sent,
                    Delivery::Logged => OutboxStatus::Logged,
                };
                queue.delivered(message, status).await?;
            }
            Err(error) => {
                tracing::warn!(to = %message.recipient, %error, "mail not sent; will retry");
                queue.attempt_failed(message, &error).await?;
            }
        }
    }
    Ok(messages.len())
}
