//! Accounts without anyone choosing another person's password: invitations
//! (the link sets the password), password resets and password changes. The
//! links carry a random secret of which only the sha256 is stored; each
//! works once and expires.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};

use super::rate_limit::Reserved;
use super::tokens::{random_hex, sha256_hex};
use super::users::{self, NewAccount};
use super::{Counters, Services, groups, lookup, outbox, sessions};
use crate::domain::authz::Principal;
use crate::domain::user::{check_display_name, check_password, email_key, normalize_email};
use crate::domain::validate::{Checker, Refusal};
use crate::domain::{GroupRole, MailKind, Role, TokenPurpose, limits};
use crate::entities::{account_token, membership, user};
use crate::error::{AppError, AppResult};

/// Whom to invite, and into which group with which role.
#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    pub email: String,
    /// Empty: the part of the address before the `@`.
    pub display_name: String,
    pub role: Role,
    /// `(group slug, role in it)`.
    pub group: Option<(String, GroupRole)>,
}

/// A link that was just issued and mailed: its secret is never stored.
#[derive(Clone, Debug)]
pub struct Issued {
    pub user: user::Model,
    pub purpose: TokenPurpose,
    /// `<public url>/invite/<secret>` or `<public url>/reset/<secret>`.
    pub link: String,
    pub expires_at: i64,
    /// Earlier links of the same purpose stopped working (a new invitation
    /// replaces the unanswered one).
    pub replaced: bool,
}

impl TokenPurpose {
    fn lifetime(self) -> i64 {
        match self {
            TokenPurpose::Invitation => limits::INVITATION_SECS,
            TokenPurpose::PasswordReset => limits::PASSWORD_RESET_SECS,
            TokenPurpose::EmailChange => limits::EMAIL_CHANGE_SECS,
        }
    }

    /// The link's path before its secret.
    pub fn path(self) -> &'static str {
        match self {
            TokenPurpose::Invitation => "invite",
            TokenPurpose::PasswordReset => "reset",
            TokenPurpose::EmailChange => "account/email",
        }
    }
}

/// Who may invite whom: admins anyone with any role; a group's owners
/// members of their own group.
fn may_invite(principal: &Principal, role: Role, group_id: Option<i64>) -> Result<(), Refusal> {
    if principal.is_admin() {
        return Ok(());
    }
    match group_id {
        Some(group_id) if principal.can_manage_group(group_id) && role == Role::Member => Ok(()),
        Some(_) => Err(Refusal::Forbidden(
            "only admins, and the group's owners for members of it, may invite".into(),
        )),
        None => Err(Refusal::Forbidden(
            "only admins may invite people outside a group".into(),
        )),
    }
}

/// What an invitation did.
#[derive(Clone, Debug)]
pub enum Invited {
    /// A new account, or (by an admin) one that never chose its password:
    /// the link that sets it was issued and mailed.
    Link(Issued),
    /// The address has an account already: it was only added to the group,
    /// and told so by mail. No link: nobody but the account's owner (through
    /// a reset) or an admin may have one that sets its password.
    Added,
}

/// Creates the account (without a password) and its membership, and issues
/// the invitation link's secret. An admin inviting someone whose invitation
/// is still unanswered issues a new link (the old ones stop working); anyone
/// else inviting an existing account only adds it to the group.
pub async fn invite(
    services: &Services,
    principal: &Principal,
    invitation: Invitation,
) -> AppResult<Invited> {
    let mut check = Checker::new();
    let email = normalize_email("email", &invitation.email)
        .map_err(|error| check.push(error))
        .unwrap_or_default();
    let name = if invitation.display_name.trim().is_empty() {
        email.split('@').next().unwrap_or_default().to_string()
    } else {
        invitation.display_name.clone()
    };
    let display_name = check_display_name(&mut check, &name);
    check.finish()?;
    let group = match &invitation.group {
        Some((slug, role)) => Some((lookup::group_by_slug(&services.db, slug).await?, *role)),
        None => None,
    };
    may_invite(
        principal,
        invitation.role,
        group.as_ref().map(|(group, _)| group.id),
    )?;
    let now = services.now();
    let txn = services.db.begin().await?;
    let user = match lookup::user_by_email(&txn, &email).await? {
        // A link sets the password of the account it is for, whatever its
        // role: only an admin may have one issued for an existing account.
        Some(existing) if existing.password_hash.is_empty() && principal.is_admin() => existing,
        Some(existing) => {
            let Some((group, role)) = group else {
                return Err(AppError::Duplicate(
                    "this person already has an account: add them to a group".into(),
                ));
            };
            if !is_member(&txn, existing.id, group.id).await? {
                groups::insert_membership(&txn, existing.id, group.id, role, now).await?;
                outbox::enqueue_membership(
                    &txn,
                    services,
                    &existing.email,
                    &principal.display_name(),
                    &group.name,
                    role,
                )
                .await?;
            }
            txn.commit().await?;
            return Ok(Invited::Added);
        }
        // No password: only the invitation link can set one.
        None => {
            let account = NewAccount {
                email,
                display_name,
                password_hash: String::new(),
                role: invitation.role,
            };
            users::insert(&txn, account, now).await?
        }
    };
    let group_name = group.as_ref().map(|(group, _)| group.name.clone());
    if let Some((group, role)) = group
        && !is_member(&txn, user.id, group.id).await?
    {
        groups::insert_membership(&txn, user.id, group.id, role, now).await?;
    }
    let issued = issue(
        &txn,
        services,
        user,
        TokenPurpose::Invitation,
        Some(principal.attributed_user_id()),
    )
    .await?;
    outbox::enqueue_invitation(
        &txn,
        services,
        &issued.user.email,
        (&issued.link, issued.expires_at),
        &principal.display_name(),
        group_name.as_deref(),
    )
    .await?;
    txn.commit().await?;
    Ok(Invited::Link(issued))
}

async fn is_member(db: &impl ConnectionTrait, user_id: i64, group_id: i64) -> AppResult<bool> {
    Ok(membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::GroupId.eq(group_id))
        .one(db)
        .await?
        .is_some())
}

/// Spends every unused link of `user_id` (of `purpose`, or of any); says
/// whether there was one.
async fn spend_links(
    db: &impl ConnectionTrait,
    user_id: i64,
    purpose: Option<TokenPurpose>,
    now: i64,
) -> AppResult<bool> {
    let mut update = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, now.into())
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::UsedAt.is_null());
    if let Some(purpose) = purpose {
        update = update.filter(account_token::Column::Purpose.eq(purpose));
    }
    Ok(update.exec(db).await?.rows_affected > 0)
}

/// A new link secret for `user`. A new invitation (only ever an admin's, or
/// the first of a new account) replaces the earlier ones; a reset, which
/// anyone may ask for, leaves the owner's earlier reset links working (each
/// lasts an hour) so that a stranger's request cancels nothing.
async fn issue(
    db: &impl ConnectionTrait,
    services: &Services,
    user: user::Model,
    purpose: TokenPurpose,
    created_by: Option<i64>,
) -> AppResult<Issued> {
    issue_bound(db, services, user, (purpose, ""), created_by).await
}

/// What is stored of a link's secret: its sha256, over `binding` too when
/// the link carries one (the new address of an email change), so that the
/// link works for that value only.
pub(super) fn token_key(secret: &str, binding: &str) -> String {
    if binding.is_empty() {
        sha256_hex(secret)
    } else {
        sha256_hex(&format!("{secret}\n{binding}"))
    }
}

/// [`issue`] for a link bound to `binding` ([`token_key`]).
pub(super) async fn issue_bound(
    db: &impl ConnectionTrait,
    services: &Services,
    user: user::Model,
    (purpose, binding): (TokenPurpose, &str),
    created_by: Option<i64>,
) -> AppResult<Issued> {
    let now = services.now();
    let replaced =
        purpose == TokenPurpose::Invitation && spend_links(db, user.id, Some(purpose), now).await?;
    let secret = random_hex(32);
    let expires_at = now + purpose.lifetime();
    let link = format!(
        "{}/{}/{secret}",
        services.config.public_base_url(),
        purpose.path()
    );
    account_token::ActiveModel {
        purpose: Set(purpose),
        secret_sha256: Set(token_key(&secret, binding)),
        user_id: Set(user.id),
        created_by: Set(created_by),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Issued {
        user,
        purpose,
        link,
        expires_at,
        replaced,
    })
}

pub(super) fn link_gone() -> AppError {
    AppError::NotFound(
        "this link is no longer valid: it was used already, replaced by a newer one, withdrawn or it expired; ask for a new one"
            .into(),
    )
}

/// The unused, unexpired token stored as `key` ([`token_key`]).
pub(super) async fn usable(
    db: &impl ConnectionTrait,
    services: &Services,
    purpose: TokenPurpose,
    key: &str,
) -> AppResult<account_token::Model> {
    account_token::Entity::find()
        .filter(account_token::Column::SecretSha256.eq(key))
        .filter(account_token::Column::Purpose.eq(purpose))
        .one(db)
        .await?
        .filter(|token| token.used_at.is_none() && token.expires_at > services.now())
        .ok_or_else(link_gone)
}

/// The person a link is for, while it works (to greet them on its page).
pub async fn link_owner(
    services: &Services,
    purpose: TokenPurpose,
    secret: &str,
) -> AppResult<user::Model> {
    let token = usable(&services.db, services, purpose, &sha256_hex(secret)).await?;
    let user = lookup::user_by_id(&services.db, token.user_id).await?;
    if user.disabled {
        return Err(link_gone());
    }
    Ok(user)
}

/// Sets the password through a link, once; every session of the person ends.
pub async fn redeem(
    services: &Services,
    purpose: TokenPurpose,
    secret: &str,
    password: &str,
) -> AppResult<user::Model> {
    let mut check = Checker::new();
    check_password(&mut check, "password", password);
    check.finish()?;
    let user = link_owner(services, purpose, secret).await?;
    let hash = services.passwords.hash(password.to_string()).await?;
    let now = services.now();
    let txn = services.db.begin().await?;
    // Only a still-unused token is spent, so a link works exactly once.
    let spent = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, now.into())
        .filter(account_token::Column::SecretSha256.eq(sha256_hex(secret)))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(link_gone());
    }
    let user = set_password(&txn, services, user, hash).await?;
    txn.commit().await?;
    Ok(user)
}

async fn set_password(
    db: &impl ConnectionTrait,
    services: &Services,
    user: user::Model,
    hash: String,
) -> AppResult<user::Model> {
    let (user_id, version) = (user.id, user.credentials_version);
    let mut active: user::ActiveModel = user.into();
    active.password_hash = Set(hash);
    // Login tokens issued before stop working, as the web sessions end.
    active.credentials_version = Set(version + 1);
    active.updated_at = Set(services.now());
    let user = active.update(db).await?;
    sessions::revoke_user(db, user_id).await?;
    // No other link may set it again: pending invitations and resets end.
    spend_links(db, user_id, None, services.now()).await?;
    Ok(user)
}

/// Issues a password-reset link for `email` when such an active account
/// exists; `None` otherwise (callers say the same either way, so the form
/// does not tell who has an account). Limited per client and per account.
pub async fn request_reset(
    services: &Services,
    email: &str,
    client: &str,
) -> AppResult<Option<Issued>> {
    let email = email_key(email);
    // Counted before the work, like the login limits: per account and
    // address, per address, and per account with a higher ceiling, so that
    // strangers cannot use up the resets the account's owner asks for.
    let limits = &services.limits;
    let pair = format!("{client} {email}");
    for (limit, subject) in [
        (&limits.reset_pair, pair.as_str()),
        (&limits.reset_address, client),
        (&limits.reset_account, email.as_str()),
    ] {
        if let Reserved::Full { retry_after } = limit.reserve(&services.db, subject).await? {
            Counters::count(&services.counters.rate_limited);
            return Err(AppError::RateLimited { retry_after });
        }
    }
    let Some(user) = lookup::user_by_email(&services.db, &email)
        .await?
        .filter(|user| !user.disabled)
    else {
        return Ok(None);
    };
    Ok(Some(mail_reset(services, user, None).await?))
}

/// Issues a password-reset link for `user` and mails it, in one transaction.
async fn mail_reset(
    services: &Services,
    user: user::Model,
    created_by: Option<i64>,
) -> AppResult<Issued> {
    let txn = services.db.begin().await?;
    let issued = issue(
        &txn,
        services,
        user,
        TokenPurpose::PasswordReset,
        created_by,
    )
    .await?;
    outbox::enqueue_password_reset(
        &txn,
        services,
        &issued.user.email,
        (&issued.link, issued.expires_at),
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

/// A password-reset link an admin sends `user_id`, who has a password and
/// an enabled account (earlier reset links keep working, as with
/// [`request_reset`]).
pub async fn send_reset(
    services: &Services,
    principal: &Principal,
    user_id: i64,
) -> AppResult<Issued> {
    principal.require_admin("send password resets")?;
    let user = lookup::user_by_id(&services.db, user_id).await?;
    if user.disabled {
        return Err(AppError::Conflict(
            "this account is disabled: enable it first".into(),
        ));
    }
    if user.password_hash.is_empty() {
        return Err(AppError::Conflict(
            "this person has no password yet: send a new invitation instead".into(),
        ));
    }
    mail_reset(services, user, Some(principal.attributed_user_id())).await
}

/// A new invitation link for `user_id`, who never chose a password; the
/// earlier link stops working. Admins only.
pub async fn resend_invitation(
    services: &Services,
    principal: &Principal,
    user_id: i64,
) -> AppResult<Issued> {
    principal.require_admin("send invitations again")?;
    let person = users::person(services, user_id).await?;
    let chosen = || {
        AppError::Conflict(
            "this person has chosen a password already: send a password reset instead".into(),
        )
    };
    if !person.user.password_hash.is_empty() {
        return Err(chosen());
    }
    if person.user.disabled {
        return Err(AppError::Conflict(
            "this account is disabled: enable it first".into(),
        ));
    }
    let invitation = Invitation {
        email: person.user.email,
        display_name: person.user.display_name,
        role: person.user.role,
        // The mail names the group they were first invited to.
        group: person.memberships.into_iter().next(),
    };
    match invite(services, principal, invitation).await? {
        Invited::Link(issued) => Ok(issued),
        // They chose a password meanwhile.
        Invited::Added => Err(chosen()),
    }
}

/// Withdraws the invitation of `user_id`: its link stops working at once.
/// Admins only.
pub async fn revoke_invitation(
    services: &Services,
    principal: &Principal,
    user_id: i64,
) -> AppResult<user::Model> {
    principal.require_admin("withdraw invitations")?;
    let user = lookup::user_by_id(&services.db, user_id).await?;
    let purpose = Some(TokenPurpose::Invitation);
    if !spend_links(&services.db, user.id, purpose, services.now()).await? {
        return Err(AppError::Conflict(
            "there is no unused invitation link to withdraw".into(),
        ));
    }
    Ok(user)
}

/// A link issued for someone by someone else that still works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenLink {
    pub purpose: TokenPurpose,
    pub link: String,
    pub expires_at: i64,
}

/// The working links issued for people by someone else (invitations, and
/// resets an admin sent), by person, when no mail server is configured:
/// the admin passes them on. Only the secret's hash is stored, so the links
/// are read back from their mails in the outbox, and one is shown only
/// while its hash matches an unused, unexpired token: a replaced, withdrawn
/// or used link never is. Admins only; none with a mail server (the mail
/// carries the link to its owner).
pub async fn open_links(
    services: &Services,
    principal: &Principal,
) -> AppResult<HashMap<i64, OpenLink>> {
    principal.require_admin("see links issued for other people")?;
    if services.config.smtp_url.is_some() {
        return Ok(HashMap::new());
    }
    let now = services.now();
    let purposes = [TokenPurpose::Invitation, TokenPurpose::PasswordReset];
    let tokens: HashMap<String, account_token::Model> = account_token::Entity::find()
        .filter(account_token::Column::UsedAt.is_null())
        .filter(account_token::Column::ExpiresAt.gt(now))
        .filter(account_token::Column::CreatedBy.is_not_null())
        .filter(account_token::Column::Purpose.is_in(purposes))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|token| (token.secret_sha256.clone(), token))
        .collect();
    let Some(since) = tokens.values().map(|token| token.created_at).min() else {
        return Ok(HashMap::new());
    };
    let kinds = [MailKind::Invitation, MailKind::PasswordReset];
    let mut open: HashMap<i64, OpenLink> = HashMap::new();
    for link in outbox::mailed_links(&services.db, &kinds, since).await? {
        let secret = link.rsplit('/').next().unwrap_or_default();
        let Some(token) = tokens.get(&sha256_hex(secret)) else {
            continue;
        };
        let candidate = OpenLink {
            purpose: token.purpose,
            link,
            expires_at: token.expires_at,
        };
        // Of several working resets, the one that lasts longest.
        let known = open.get(&token.user_id);
        if known.is_none_or(|known| known.expires_at < candidate.expires_at) {
            open.insert(token.user_id, candidate);
        }
    }
    Ok(open)
}

/// Changes a signed-in person's password after checking the current one
/// (failures count like failed logins); every session of theirs ends, so
/// the caller renews the one in use.
pub async fn change_password(
    services: &Services,
    principal: &Principal,
    current: &str,
    new: &str,
    client: &str,
) -> AppResult<()> {
    let Principal::User { id, .. } = principal else {
        return Err(AppError::Forbidden("tokens have no password".into()));
    };
    let mut check = Checker::new();
    check_password(&mut check, "password", new);
    check.finish()?;
    let user = lookup::user_by_id(&services.db, *id).await?;
    match super::auth::check_credentials(services, &user.email, current, client).await {
        Ok(_) => {}
        Err(AppError::Unauthorized(_)) => {
            return Err(AppError::field(
                "current_password",
                "is not your current password",
            ));
        }
        Err(other) => return Err(other),
    }
    let hash = services.passwords.hash(new.to_string()).await?;
    set_password(&services.db, services, user, hash).await?;
    Ok(())
}
