//! The outbox for admins, and each person's mail preferences.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use super::{ApiTags, BearerAuth, instant, page};
use crate::AppState;
use crate::domain::{MailKind, OutboxStatus};
use crate::entities::outbox;
use crate::error::AppResult;
use crate::service::notifications::{self, Preferences, PreferencesPatch};
use crate::service::outbox::{self as mail, OutboxCounts};

pub struct OutboxApi;

/// A mail: to whom, what, and how sending it went.
#[derive(Object)]
struct MailOut {
    id: i64,
    kind: MailKind,
    recipient: String,
    subject: String,
    status: OutboxStatus,
    /// Sending attempts so far.
    attempts: i32,
    /// Why the last attempt failed.
    #[oai(nullable)]
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    /// When the worker tries (again); digests wait to collect.
    next_attempt_at: DateTime<Utc>,
    #[oai(nullable)]
    sent_at: Option<DateTime<Utc>>,
}

impl From<outbox::Model> for MailOut {
    fn from(row: outbox::Model) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            recipient: row.recipient,
            subject: row.subject,
            status: row.status,
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: instant(row.created_at),
            next_attempt_at: instant(row.next_attempt_at),
            sent_at: row.sent_at.map(instant),
        }
    }
}

/// Mail of each status.
#[derive(Object)]
struct CountsOut {
    pending: u64,
    failed: u64,
    sent: u64,
    /// Written to the log (no `--smtp-url`).
    logged: u64,
}

impl From<OutboxCounts> for CountsOut {
    fn from(counts: OutboxCounts) -> Self {
        Self {
            pending: counts.pending,
            failed: counts.failed,
            sent: counts.sent,
            logged: counts.logged,
        }
    }
}

/// A page of the outbox, newest first.
#[derive(Object)]
struct OutboxPage {
    items: Vec<MailOut>,
    /// Rows matching the filter, over all pages.
    total: u64,
    counts: CountsOut,
}

/// Which mail you receive (invitations and password resets always come).
#[derive(Object)]
struct PreferencesOut {
    /// New submissions to review (moderators and admins), as digests.
    submissions: bool,
    /// Decisions and comments on your entries.
    decisions: bool,
    /// New access requests (admins).
    access_requests: bool,
}

impl From<Preferences> for PreferencesOut {
    fn from(preferences: Preferences) -> Self {
        Self {
            submissions: preferences.submissions,
            decisions: preferences.decisions,
            access_requests: preferences.access_requests,
        }
    }
}

/// Changes to your mail preferences; absent fields stay as they are.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct PreferencesInput {
    #[oai(nullable)]
    submissions: Option<bool>,
    #[oai(nullable)]
    decisions: Option<bool>,
    #[oai(nullable)]
    access_requests: Option<bool>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Mail")]
impl OutboxApi {
    /// Outgoing mail with its delivery status (admins only).
    #[oai(path = "/outbox", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        status: Query<Option<OutboxStatus>>,
        /// Page size, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// Rows to skip.
        #[oai(validator(maximum(value = "1000000000")))]
        offset: Query<Option<u64>>,
    ) -> AppResult<Json<OutboxPage>> {
        let (limit, offset) = page(*limit, *offset);
        let (rows, total) = mail::list(&state.services, &auth.0, *status, limit, offset).await?;
        let counts = mail::counts(&state.services).await?;
        Ok(Json(OutboxPage {
            items: rows.into_iter().map(MailOut::from).collect(),
            total,
            counts: counts.into(),
        }))
    }

    /// Which mail you receive.
    #[oai(path = "/me/mail-preferences", method = "get")]
    async fn preferences(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> AppResult<Json<PreferencesOut>> {
        Ok(Json(
            notifications::get(&state.services, &auth.0).await?.into(),
        ))
    }

    /// Turn kinds of mail on or off.
    #[oai(path = "/me/mail-preferences", method = "patch")]
    async fn set_preferences(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: Json<PreferencesInput>,
    ) -> AppResult<Json<PreferencesOut>> {
        let patch = PreferencesPatch {
            submissions: body.submissions,
            decisions: body.decisions,
            access_requests: body.access_requests,
        };
        Ok(Json(
            notifications::set(&state.services, &auth.0, patch)
                .await?
                .into(),
        ))
    }
}
