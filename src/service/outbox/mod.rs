//! The outbox: mail written in the same transaction as the change that
//! causes it (so a mail exists exactly when its change does), listed for
//! admins, and sent by the worker through [`queue`].

pub mod queue;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use super::{Services, notifications};
use crate::domain::authz::Principal;
use crate::domain::limits::{self, MAIL_DIGEST_SECS};
use crate::domain::mail::{self, Recipients, Topic};
use crate::domain::{Action, EntryStatus, GroupRole, MailKind, OutboxStatus, Role};
use crate::entities::{access_request, entry, group, outbox, user};
use crate::error::{AppError, AppResult};
use crate::mail::templates::{self, Composed, EntryNotice, Mail};

/// One mail to one address.
struct Letter<'a> {
    kind: MailKind,
    recipient: &'a str,
    user_id: Option<i64>,
    digest_key: Option<String>,
    /// When the worker may send it (later for digests, which collect).
    due: i64,
    data: String,
    rendered: Composed,
}

/// The site as its mails name it.
pub fn sender(services: &Services) -> templates::Site {
    templates::Site {
        name: site(services),
        url: services.config.public_base_url(),
    }
}

fn render<M: Mail + Serialize>(services: &Services, mail: &M) -> AppResult<(String, Composed)> {
    let rendered = mail
        .compose(&sender(services))
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
    (data, rendered): &(String, Composed),
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
    services.config.site_name()
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
    let of_group = principal.can_write_entries(entry.group_id);
    let by_moderator = principal.is_moderator();
    let Some(audience) = mail::audience(action, from, entry.status, by_moderator, of_group) else {
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
        Recipients::Moderators => {
            let notice = EntryNotice {
                entry_id: entry.id,
                title: entry.title.clone(),
                kind: entry.kind.to_string(),
                group,
                actor: principal.display_name(),
                note: mail::submission_note(action, from).into(),
                link: link(services, &format!("/moderation/{}", entry.id)),
            };
            let (data, rendered) = render(
                services,
                &templates::Submissions {
                    items: vec![notice],
                    queue_link: link(services, "/moderation"),
                    preferences_link,
                },
            )?;
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
        Recipients::Author => {
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
            let mail = render(
                services,
                &templates::Decision {
                    moderator: principal.display_name(),
                    outcome: mail::outcome(action, entry.status).into(),
                    title: entry.title.clone(),
                    group,
                    comment: comment.map(str::to_string),
                    link: link(services, &format!("/my/entries/{}", entry.id)),
                    preferences_link,
                },
            )?;
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
    let mail = render(
        services,
        &templates::AccessRequest {
            group_name: request.group_name.clone(),
            contact: request.contact_email.clone(),
            country: request.country.clone(),
            website: request.website.clone(),
            message: request.message.clone(),
            link: link(services, "/admin/access-requests"),
            preferences_link: link(services, "/account"),
        },
    )?;
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
    let mail = render(
        services,
        &templates::AccessDecision {
            group_name: request.group_name.clone(),
            approved,
            comment: comment.map(str::to_string),
            link: link(services, &format!("/groups/{}", request.slug)),
            site: site(services),
        },
    )?;
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
    (link, expires_at): (&str, i64),
    inviter: &str,
    group: Option<&str>,
) -> AppResult<()> {
    let mail = render(
        services,
        &templates::Invitation {
            inviter: inviter.into(),
            group: group.map(str::to_string),
            link: link.into(),
            site: site(services),
            expires: templates::valid_until(expires_at),
        },
    )?;
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
    let mail = render(
        services,
        &templates::Membership {
            inviter: inviter.into(),
            group: group.into(),
            role: role.to_string(),
            login: link(services, "/login"),
            reset: link(services, "/reset"),
            site: site(services),
        },
    )?;
    immediate(db, services, MailKind::Membership, to, None, &mail).await
}

/// A password-reset link for `to`; inside the transaction that stores the
/// reset token. Always sent (no preference).
pub async fn enqueue_password_reset(
    db: &impl ConnectionTrait,
    services: &Services,
    to: &str,
    (link, expires_at): (&str, i64),
) -> AppResult<()> {
    let mail = render(
        services,
        &templates::PasswordReset {
            link: link.into(),
            site: site(services),
            expires: templates::valid_until(expires_at),
        },
    )?;
    immediate(db, services, MailKind::PasswordReset, to, None, &mail).await
}

/// The link that confirms `to` as the new address of `name`'s account;
/// inside the transaction that stores its token. Always sent (asked for).
pub async fn enqueue_email_change(
    db: &impl ConnectionTrait,
    services: &Services,
    to: &str,
    name: &str,
    (link, expires_at): (&str, i64),
) -> AppResult<()> {
    let mail = render(
        services,
        &templates::EmailChange {
            name: name.into(),
            link: link.into(),
            site: site(services),
            expires: templates::valid_until(expires_at),
        },
    )?;
    immediate(db, services, MailKind::EmailChange, to, None, &mail).await
}

/// The links in mails of `kinds` written since `since`, newest first: what
/// an admin passes on when no mail server sends them (the mail's data keeps
/// its `link`).
pub async fn mailed_links(
    db: &impl ConnectionTrait,
    kinds: &[MailKind],
    since: i64,
) -> AppResult<Vec<String>> {
    let rows: Vec<String> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Data)
        .filter(outbox::Column::Kind.is_in(kinds.iter().copied()))
        .filter(outbox::Column::CreatedAt.gte(since))
        .order_by_desc(outbox::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|data| {
            let data: serde_json::Value = serde_json::from_str(data).ok()?;
            data.get("link")?.as_str().map(str::to_string)
        })
        .collect())
}

/// Puts a mail that failed for good back in line, due now, for one more
/// attempt (admins only); mail in any other state is left alone.
pub async fn retry(
    services: &Services,
    principal: &Principal,
    id: i64,
) -> AppResult<outbox::Model> {
    principal.require_admin("retry mail")?;
    let row = outbox::Entity::find_by_id(id)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::not_found("mail"))?;
    if row.status != OutboxStatus::Failed {
        return Err(AppError::InvalidTransition(format!(
            "only failed mail can be retried; this one is {}",
            row.status
        )));
    }
    let now = services.now();
    // Only a still-failed row changes, so two admins retry it once.
    let changed = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, OutboxStatus::Pending.into())
        .col_expr(outbox::Column::NextAttemptAt, now.into())
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Failed))
        .exec(&services.db)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::InvalidTransition(
            "this mail was retried meanwhile".into(),
        ));
    }
    Ok(outbox::Model {
        status: OutboxStatus::Pending,
        next_attempt_at: now,
        ..row
    })
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
