//! What people change of their own account: their name, and their email
//! address, which changes only once a link mailed to the new address is
//! followed (until then the old one stays, for mail and for signing in).

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::accounts::{Issued, issue_bound, link_gone, token_key, usable};
use super::{Services, is_unique_violation, lookup, outbox};
use crate::domain::TokenPurpose;
use crate::domain::authz::Principal;
use crate::domain::user::{check_display_name, email_skeleton, normalize_email};
use crate::domain::validate::Checker;
use crate::entities::{account_token, user};
use crate::error::{AppError, AppResult};

fn own_account(principal: &Principal) -> AppResult<i64> {
    match principal {
        Principal::User { id, .. } => Ok(*id),
        Principal::GroupToken { .. } => Err(AppError::Forbidden(
            "API tokens have no account to change".into(),
        )),
    }
}

/// Changes the signed-in person's display name.
pub async fn rename(
    services: &Services,
    principal: &Principal,
    name: &str,
) -> AppResult<user::Model> {
    let id = own_account(principal)?;
    let mut check = Checker::new();
    let name = check_display_name(&mut check, name);
    check.finish()?;
    let mut active: user::ActiveModel = lookup::user_by_id(&services.db, id).await?.into();
    active.display_name = Set(name);
    active.updated_at = Set(services.now());
    Ok(active.update(&services.db).await?)
}

fn address_taken() -> AppError {
    AppError::field(
        "email",
        "belongs to another account already, or looks the same as one",
    )
}

/// Whether `email` (normalized) is free for account `id`.
async fn is_free(services: &Services, id: i64, email: &str) -> AppResult<bool> {
    let lookalike = user::Entity::find()
        .filter(user::Column::EmailSkeleton.eq(email_skeleton(email)))
        .filter(user::Column::Id.ne(id))
        .one(&services.db)
        .await?;
    Ok(lookalike.is_none())
}

/// Mails a link to `new_email` that makes it the signed-in person's
/// address; the link works for that address only, once, for a day.
pub async fn request_email_change(
    services: &Services,
    principal: &Principal,
    new_email: &str,
) -> AppResult<Issued> {
    let id = own_account(principal)?;
    let email =
        normalize_email("email", new_email).map_err(|error| AppError::Validation(vec![error]))?;
    let user = lookup::user_by_id(&services.db, id).await?;
    if email == user.email {
        return Err(AppError::field("email", "is your address already"));
    }
    if !is_free(services, id, &email).await? {
        return Err(address_taken());
    }
    let txn = services.db.begin().await?;
    let mut issued = issue_bound(
        &txn,
        services,
        user,
        (TokenPurpose::EmailChange, &email),
        Some(id),
    )
    .await?;
    issued.link = format!("{}?to={}", issued.link, encode(&email));
    outbox::enqueue_email_change(
        &txn,
        services,
        &email,
        &issued.user.display_name,
        (&issued.link, issued.expires_at),
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Follows an email-change link: the address it was issued for becomes the
/// account's, unless someone took it meanwhile.
pub async fn confirm_email_change(
    services: &Services,
    secret: &str,
    new_email: &str,
) -> AppResult<user::Model> {
    let key = token_key(secret, new_email);
    let token = usable(&services.db, services, TokenPurpose::EmailChange, &key).await?;
    let user = lookup::user_by_id(&services.db, token.user_id).await?;
    if user.disabled {
        return Err(link_gone());
    }
    if !is_free(services, user.id, new_email).await? {
        return Err(address_taken());
    }
    let txn = services.db.begin().await?;
    // Only a still-unused token is spent, so a link works exactly once.
    let spent = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, services.now().into())
        .filter(account_token::Column::Id.eq(token.id))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(link_gone());
    }
    let mut active: user::ActiveModel = user.into();
    active.email = Set(new_email.to_string());
    active.email_skeleton = Set(email_skeleton(new_email));
    active.updated_at = Set(services.now());
    let user = active.update(&txn).await.map_err(|error| {
        if is_unique_violation(&error) {
            address_taken()
        } else {
            error.into()
        }
    })?;
    txn.commit().await?;
    Ok(user)
}
