//! The outbox: mail written in the same transaction as the change that
//! causes it (so a mail exists exactly when its change does), read by the
//! worker, which claims each row before sending so that two instances never
//! send one mail twice, and listed for admins.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use super::{Services, notifications};
use crate::domain::authz::Principal;
use crate::domain::limits::{self, MAIL_BATCH, MAIL_CLAIM_SECS, MAIL_DIGEST_SECS};
use crate::domain::mail::{self, Audience, Topic};
use crate::domain::{Action, EntryStatus, GroupRole, MailKind, OutboxStatus, Role};
use crate::entities::{access_request, entry, group, outbox, user};
use crate::error::{AppError, AppResult};
use crate::mail::templates::{self, EntryNotice, Mail, Rendered};

/// One mail to one address.
struct Letter<'a> {
    kind: MailKind,
    recipient: &'a str,
    user_id: Option<i64>,
    digest_key: Option<String>,
    /// When the worker may send it (later for digests, which collect).
    due: i64,
    data: String,
    rendered: Rendered,
}

fn render<M: Mail + Serialize>(mail: &M) -> AppResult<(String, Rendered)> {
    let rendered = mail
        .compose()
        .map_err(|error| AppError::internal("cannot render a mail", error))?;
    let data = serde_json::to_string(mail)
        .map_err(|error| AppError::internal("cannot store a mail", error))?;
    Ok((data, rendered))
}

async fn insert(
    db: &impl ConnectionTrait,
    services: &Services,
    letter: Letter<'_>,
) -> AppResult<()> {
    outbox::ActiveModel {
        kind: Set(letter.kind),
        recipient: Set(letter.recipient.to_string()),
        user_id: Set(letter.user_id),
        language: Set("en".into()),
        subject: Set(letter.rendered.subject),
        text_body: Set(letter.rendered.text),
        html_body: Set(letter.rendered.html),
        digest_key: Set(letter.digest_key),
        data: Set(letter.data),
        status: Set(OutboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(letter.due),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(services.now()),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A mail rendered as `(data, rendered)`, to `recipient` as soon as possible.
async fn immediate(
    db: &impl ConnectionTrait,
    services: &Services,
    kind: MailKind,
    recipient: &str,
    user_id: Option<i64>,
    (data, rendered): &(String, Rendered),
) -> AppResult<()> {
    let letter = Letter {
        kind,
        recipient,
        user_id,
        digest_key: None,
        due: services.now(),
        data: data.clone(),
        rendered: rendered.clone(),
    };
    insert(db, services, letter).await
}

/// `<public url><path>`.
fn link(services: &Services, path: &str) -> String {
    format!("{}{path}", services.config.public_base_url())
}

fn site(services: &Services) -> String {
    services
        .config
        .public_host()
        .unwrap_or_else(|| services.config.public_base_url())
}

/// Active users with one of `roles` who want mail on `topic`.
async fn people(
    db: &impl ConnectionTrait,
    roles: &[Role],
    topic: Topic,
) -> AppResult<Vec<user::Model>> {
    let candidates = user::Entity::find()
        .filter(user::Column::Role.is_in(roles.iter().copied()))
        .filter(user::Column::Disabled.eq(false))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?;
    notifications::wanting(db, candidates, topic).await
}

/// Mail for a change to an entry, inside the change's transaction: moderators
/// hear of submissions (as a digest), authors of decisions and comments.
pub async fn entry_changed(
    db: &impl ConnectionTrait,
    services: &Services,
    principal: &Principal,
    entry: &entry::Model,
    action: Action,
    from: EntryStatus,
    comment: Option<&str>,
) -> AppResult<()> {
    let Some(audience) = mail::audience(action, from, entry.status, principal.is_moderator())
    else {
        return Ok(());
    };
    let actor = principal.attributed_user_id();
    let group = group::Entity::find_by_id(entry.group_id)
        .one(db)
        .await?
        .map(|group| group.name)
        .unwrap_or_default();
    let preferences_link = link(services, "/account");
    match audience {
        Audience::Moderators => {
            let notice = EntryNotice {
                entry_id: entry.id,
                title: entry.title.clone(),
                kind: entry.kind.to_string(),
                group,
                actor: principal.display_name(),
                note: mail::submission_note(action, from).into(),
                link: link(services, &format!("/moderation/{}", entry.id)),
            };
            let (data, rendered) = render(&templates::Submissions {
                items: vec![notice],
                queue_link: link(services, "/moderation"),
                preferences_link,
            })?;
            let due = services.now() + MAIL_DIGEST_SECS;
            // An entry with assigned reviewers is theirs: only they hear of it.
            let reviewers = super::reviewers::ids(db, entry.id).await?;
            for moderator in people(db, &[Role::Moderator, Role::Admin], Topic::Submissions).await?
            {
                if moderator.id == actor
                    || !(reviewers.is_empty() || reviewers.contains(&moderator.id))
                {
                    continue;
                }
                let letter = Letter {
                    kind: MailKind::Submission,
                    recipient: &moderator.email,
                    user_id: Some(moderator.id),
                    digest_key: Some(format!("submissions:{}", moderator.id)),
                    due,
                    data: data.clone(),
                    rendered: rendered.clone(),
                };
                insert(db, services, letter).await?;
            }
        }
        Audience::Author => {
            if entry.author_id == actor {
                return Ok(());
            }
            let author = user::Entity::find_by_id(entry.author_id).one(db).await?;
            let Some(author) = author.filter(|author| !author.disabled) else {
                return Ok(());
            };
            if !notifications::wants(db, author.id, Topic::Decisions).await? {
                return Ok(());
            }
            let mail = render(&templates::Decision {
                moderator: principal.display_name(),
                outcome: mail::outcome(action, entry.status).into(),
                title: entry.title.clone(),
                group,
                comment: comment.map(str::to_string),
                link: link(services, &format!("/my/entries/{}", entry.id)),
                preferences_link,
            })?;
            let (kind, to) = (MailKind::Decision, &author.email);
            immediate(db, services, kind, to, Some(author.id), &mail).await?;
        }
    }
    Ok(())
}

/// Mail to admins about a new access request, inside its transaction.
pub async fn access_request_received(
    db: &impl ConnectionTrait,
    services: &Services,
    request: &access_request::Model,
) -> AppResult<()> {
    let mail = render(&templates::AccessRequest {
        group_name: request.group_name.clone(),
        contact: request.contact_email.clone(),
        country: request.country.clone(),
        website: request.website.clone(),
        message: request.message.clone(),
        link: link(services, "/admin/access-requests"),
        preferences_link: link(services, "/account"),
    })?;
    for admin in people(db, &[Role::Admin], Topic::AccessRequests).await? {
        let kind = MailKind::AccessRequest;
        immediate(db, services, kind, &admin.email, Some(admin.id), &mail).await?;
    }
    Ok(())
}

/// Mail to whoever asked for access, with the decision, inside its transaction.
pub async fn access_request_decided(
    db: &impl ConnectionTrait,
    services: &Services,
    request: &access_request::Model,
    approved: bool,
    comment: Option<&str>,
) -> AppResult<()> {
    let mail = render(&templates::AccessDecision {
        group_name: request.group_name.clone(),
        approved,
        comment: comment.map(str::to_string),
        link: link(services, &format!("/groups/{}", request.slug)),
        site: site(services),
    })?;
    immediate(
        db,
        services,
        MailKind::AccessRequestDecided,
        &request.contact_email,
        None,
        &mail,
    )
    .await
}

/// An invitation to `to` with the link that sets their password; inside the
/// transaction that creates the invitation. Always sent (no preference).
pub async fn enqueue_invitation(
    db: &impl ConnectionTrait,
    services: &Services,
    to: &str,
    link: &str,
    inviter: &str,
    group: Option<&str>,
) -> AppResult<()> {
    let mail = render(&templates::Invitation {
        inviter: inviter.into(),
        group: group.map(str::to_string),
        link: link.into(),
        site: site(services),
    })?;
    immediate(db, services, MailKind::Invitation, to, None, &mail).await
}

/// Tells `to`, who has an account, that they were added to `group`; inside
/// the transaction that adds them. Always sent (no preference).
pub async fn enqueue_membership(
    db: &impl ConnectionTrait,
    services: &Services,
    to: &str,
    inviter: &str,
    group: &str,
    role: GroupRole,
) -> AppResult<()> {
    let mail = render(&templates::Membership {
        inviter: inviter.into(),
        group: group.into(),
        role: role.to_string(),
        login: link(services, "/login"),
        reset: link(services, "/reset"),
        site: site(services),
    })?;
    immediate(db, services, MailKind::Membership, to, None, &mail).await
}

/// A password-reset link for `to`; inside the transaction that stores the
/// reset token. Always sent (no preference).
pub async fn enqueue_password_reset(
    db: &impl ConnectionTrait,
    services: &Services,
    to: &str,
    link: &str,
) -> AppResult<()> {
    let mail = render(&templates::PasswordReset {
        link: link.into(),
        site: site(services),
    })?;
    immediate(db, services, MailKind::PasswordReset, to, None, &mail).await
}

/// Mail of each status, for admins and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub failed: u64,
    pub sent: u64,
    pub logged: u64,
}

pub async fn counts(services: &Services) -> AppResult<OutboxCounts> {
    let rows: Vec<(OutboxStatus, i64)> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(outbox::Column::Id.count(), "count")
        .group_by(outbox::Column::Status)
        .into_tuple()
        .all(&services.db)
        .await?;
    let mut counts = OutboxCounts::default();
    for (status, count) in rows {
        let count = u64::try_from(count).unwrap_or(0);
        match status {
            OutboxStatus::Pending => counts.pending = count,
            OutboxStatus::Failed => counts.failed = count,
            OutboxStatus::Sent => counts.sent = count,
            OutboxStatus::Logged => counts.logged = count,
        }
    }
    Ok(counts)
}

/// The outbox, newest first (admins only), with the total.
pub async fn list(
    services: &Services,
    principal: &Principal,
    status: Option<OutboxStatus>,
    limit: u64,
    offset: u64,
) -> AppResult<(Vec<outbox::Model>, u64)> {
    principal.require_admin("read the outbox")?;
    let mut query = outbox::Entity::find();
    if let Some(status) = status {
        query = query.filter(outbox::Column::Status.eq(status));
    }
    let total = query.clone().count(&services.db).await?;
    let (limit, offset) = limits::page_window(limit, offset);
    let rows = query
        .order_by_desc(outbox::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(&services.db)
        .await?;
    Ok((rows, total))
}

/// A message the worker sends: one row, or a digest of several.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub ids: Vec<i64>,
    pub recipient: String,
    pub rendered: Rendered,
}

fn unclaimed(now: i64) -> Condition {
    Condition::any()
        .add(outbox::Column::ClaimedUntil.is_null())
        .add(outbox::Column::ClaimedUntil.lt(now))
}

/// Takes row `id` for this worker until the claim expires; `false` when
/// another worker has it or it is no longer pending.
async fn claim(services: &Services, id: i64, now: i64) -> AppResult<bool> {
    let result = outbox::Entity::update_many()
        .col_expr(
            outbox::Column::ClaimedUntil,
            sea_orm::sea_query::Expr::value(now + MAIL_CLAIM_SECS),
        )
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(unclaimed(now))
        .exec(&services.db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Claims the mail that is due and returns it as messages: rows with one
/// digest key go out together.
pub async fn claim_due(services: &Services) -> AppResult<Vec<Outgoing>> {
    let now = services.now();
    let due = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(unclaimed(now))
        .order_by_asc(outbox::Column::Id)
        .limit(MAIL_BATCH)
        .all(&services.db)
        .await?;
    let mut messages = Vec::new();
    let mut taken = std::collections::HashSet::new();
    for row in due {
        if taken.contains(&row.id) || !claim(services, row.id, now).await? {
            continue;
        }
        taken.insert(row.id);
        let Some(key) = row.digest_key.clone() else {
            messages.push(Outgoing {
                ids: vec![row.id],
                recipient: row.recipient,
                rendered: Rendered {
                    subject: row.subject,
                    text: row.text_body,
                    html: row.html_body,
                },
            });
            continue;
        };
        // The window of the first row has closed: everything collected since goes with it.
        let siblings = outbox::Entity::find()
            .filter(outbox::Column::DigestKey.eq(key))
            .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
            .filter(outbox::Column::Id.ne(row.id))
            .order_by_asc(outbox::Column::Id)
            .all(&services.db)
            .await?;
        let mut rows = vec![row];
        for sibling in siblings {
            if !taken.contains(&sibling.id) && claim(services, sibling.id, now).await? {
                taken.insert(sibling.id);
                rows.push(sibling);
            }
        }
        messages.push(digest(rows)?);
    }
    Ok(messages)
}

/// One message for rows collected under one digest key.
fn digest(rows: Vec<outbox::Model>) -> AppResult<Outgoing> {
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
            .compose()
            .map_err(|error| AppError::internal("cannot render a digest", error))?,
        _ => Rendered {
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
