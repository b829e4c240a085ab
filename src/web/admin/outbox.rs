//! The outbox: mail waiting, sent, kept for the log (no mail server) and
//! failed, newest first, with a retry for failed mail. Admins only.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use poem::handler;
use poem::web::{Path, Query};

use super::require_admin;
use crate::domain::{MailKind, OutboxStatus, TextEnum};
use crate::entities::outbox as mail;
use crate::error::AppError;
use crate::service::outbox::{self, OutboxCounts};
use crate::web::context::{
    Ctx, Layout, Notice, WebResult, page_status, respond, see_other, sentence,
};
use crate::web::display::{self, Choice, Pager, with_blank};
use crate::web::forms::FormState;
use crate::web::query::{id_of, offset, parse_filter, query_string, text};

const PAGE_SIZE: u64 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    page: Layout,
    filters: FormState,
    statuses: Vec<Choice>,
    counts: OutboxCounts,
    rows: Vec<Row>,
    pager: Pager,
}

/// One mail as the list shows it.
struct Row {
    id: i64,
    recipient: String,
    subject: String,
    kind: &'static str,
    /// Failed for good: it can be retried.
    failed: bool,
    state: &'static str,
    /// The badge's class.
    badge: &'static str,
    attempts: i32,
    last_error: Option<String>,
    created: String,
    /// When it went out, or when the next attempt is due.
    when: String,
}

/// Where a mail stands, in words.
fn state_label(status: OutboxStatus) -> &'static str {
    match status {
        OutboxStatus::Pending => "waiting",
        OutboxStatus::Sent => "sent",
        OutboxStatus::Logged => "not sent: no mail server",
        OutboxStatus::Failed => "failed",
    }
}

fn kind_label(kind: MailKind) -> &'static str {
    match kind {
        MailKind::Submission => "submissions to review",
        MailKind::Decision => "decision",
        MailKind::AccessRequest => "access request",
        MailKind::AccessRequestDecided => "access request answered",
        MailKind::Invitation => "invitation",
        MailKind::Membership => "added to a group",
        MailKind::PasswordReset => "password reset",
        MailKind::EmailChange => "address change",
    }
}

impl Row {
    fn of(row: mail::Model) -> Self {
        let when = match (row.status, row.sent_at) {
            (OutboxStatus::Logged, Some(at)) => format!("to the log {}", display::utc(at)),
            (_, Some(sent)) => format!("sent {}", display::utc(sent)),
            (OutboxStatus::Pending, None) => {
                format!("next try {}", display::utc(row.next_attempt_at))
            }
            _ => String::new(),
        };
        Self {
            id: row.id,
            recipient: row.recipient,
            subject: row.subject,
            kind: kind_label(row.kind),
            failed: row.status == OutboxStatus::Failed,
            state: state_label(row.status),
            badge: match row.status {
                OutboxStatus::Pending => "pending",
                OutboxStatus::Sent => "live",
                OutboxStatus::Logged => "expired",
                OutboxStatus::Failed => "rejected",
            },
            attempts: row.attempts,
            last_error: row.last_error,
            created: display::utc(row.created_at),
            when,
        }
    }
}

async fn outbox_page(
    ctx: &Ctx<'_>,
    query: &HashMap<String, String>,
    notice: Option<Notice>,
) -> WebResult {
    let viewer = require_admin(ctx)?;
    let status = parse_filter::<OutboxStatus>(query, "status");
    let offset = offset(query);
    let services = ctx.services();
    let (rows, total) =
        outbox::list(services, &viewer.principal, status, PAGE_SIZE, offset).await?;
    let counts = outbox::counts(services).await?;
    let base = query_string(&[("status", text(query, "status"))]);
    let pager = Pager::new(total, offset, PAGE_SIZE, rows.len(), &base);
    let statuses = OutboxStatus::ALL
        .iter()
        .map(|status| Choice::new(status.as_str(), state_label(*status)));
    let mut filters = query.clone();
    filters.entry("status".into()).or_default();
    let mut page = ctx.layout("Outbox", "admin");
    let status_code = page_status(notice.is_some(), &[]);
    page.notice = notice;
    Ok(respond(
        OutboxPage {
            page,
            filters: FormState::new(filters),
            statuses: with_blank("Any state", statuses),
            counts,
            rows: rows.into_iter().map(Row::of).collect(),
            pager,
        },
        status_code,
    ))
}

#[handler]
pub async fn list(ctx: Ctx<'_>, Query(query): Query<HashMap<String, String>>) -> WebResult {
    outbox_page(&ctx, &query, None).await
}

#[handler]
pub async fn retry(ctx: Ctx<'_>, Path(id): Path<String>, body: Vec<u8>) -> WebResult {
    ctx.form(&body)?;
    let viewer = require_admin(&ctx)?;
    let id = id_of(&id, "mail")?;
    match outbox::retry(ctx.services(), &viewer.principal, id).await {
        Ok(row) => {
            ctx.flash(
                format!("The mail to {} waits to be sent again.", row.recipient),
                None,
            );
            Ok(see_other("/admin/outbox"))
        }
        Err(error @ AppError::InvalidTransition(_)) => {
            let notice = Notice {
                heading: "Not retried".into(),
                text: sentence(&error.to_string()),
            };
            outbox_page(&ctx, &HashMap::new(), Some(notice)).await
        }
        Err(other) => Err(other.into()),
    }
}
