//! Sends the outbox: claims what is due, sends it, records the outcome, and
//! sleeps until the next mail is due (by the services' clock, so tests move
//! back-off forward without waiting) or the next look for new mail.

use std::sync::Arc;
use std::time::Duration;

use super::transport::{Delivery, Transport};
use crate::domain::OutboxStatus;
use crate::domain::limits::{MAIL_BATCH, MAIL_POLL_MILLIS};
use crate::service::{Services, outbox};

/// Starts the worker; it runs until the returned task is aborted.
pub fn spawn(services: Arc<Services>, transport: Transport) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let sent = match round(&services, &transport).await {
                Ok(sent) => sent,
                Err(error) => {
                    tracing::error!(%error, "mail worker round failed");
                    0
                }
            };
            services
                .counters
                .mail_rounds
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if sent >= MAIL_BATCH as usize {
                continue;
            }
            let due = outbox::queue::next_due(&services).await.ok().flatten();
            let clock = services.clock.clone();
            tokio::select! {
                () = async {
                    match due {
                        Some(due) => clock.sleep_until(due).await,
                        None => std::future::pending().await,
                    }
                } => {}
                () = tokio::time::sleep(Duration::from_millis(MAIL_POLL_MILLIS)) => {}
            }
        }
    })
}

/// Sends what is due now; returns how many messages it handled.
async fn round(services: &Services, transport: &Transport) -> crate::AppResult<usize> {
    let messages = outbox::queue::claim_due(services).await?;
    for message in &messages {
        match transport.send(message).await {
            Ok(delivery) => {
                let status = match delivery {
                    Delivery::Sent => OutboxStatus::Sent,
                    Delivery::Logged => OutboxStatus::Logged,
                };
                outbox::queue::delivered(services, message, status).await?;
            }
            Err(error) => {
                tracing::warn!(to = %message.recipient, %error, "mail not sent; will retry");
                outbox::queue::attempt_failed(services, message, &error).await?;
            }
        }
    }
    Ok(messages.len())
}
