//! Who a request is: bearer credentials to a principal, and logging in.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::tokens::{API_TOKEN_PREFIX, sha256_hex};
use super::{Services, lookup};
use crate::domain::GroupStatus;
use crate::domain::authz::Principal;
use crate::entities::{api_token, group, membership, user};
use crate::error::{AppError, AppResult};

/// Recording a token's use more often than this would write on every call of a busy CI job.
const TOKEN_USE_RECORD_SECS: i64 = 60;

fn unauthorized() -> AppError {
    AppError::Unauthorized("invalid or expired credentials".into())
}

/// Resolves a bearer credential (JWT or group API token) to a principal.
pub async fn authenticate(services: &Services, bearer: &str) -> AppResult<Principal> {
    if bearer.starts_with(API_TOKEN_PREFIX) {
        return authenticate_api_token(services, bearer).await;
    }
    let user_id = services.jwt.user_id(bearer).ok_or_else(unauthorized)?;
    let user = user::Entity::find_by_id(user_id)
        .one(&services.db)
        .await?
        .filter(|user| !user.disabled)
        .ok_or_else(unauthorized)?;
    principal_for_user(services, user).await
}

pub async fn principal_for_user(services: &Services, user: user::Model) -> AppResult<Principal> {
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .all(&services.db)
        .await?
        .into_iter()
        .map(|m| (m.group_id, m.role))
        .collect();
    Ok(Principal::User {
        id: user.id,
        name: user.display_name,
        role: user.role,
        memberships,
    })
}

async fn authenticate_api_token(services: &Services, secret: &str) -> AppResult<Principal> {
    let token = api_token::Entity::find()
        .filter(api_token::Column::SecretSha256.eq(sha256_hex(secret)))
        .one(&services.db)
        .await?
        .filter(|token| token.revoked_at.is_none())
        .ok_or_else(unauthorized)?;
    let group_exists = group::Entity::find_by_id(token.group_id)
        .one(&services.db)
        .await?
        .is_some_and(|group| group.status != GroupStatus::Removed);
    if !group_exists {
        return Err(unauthorized());
    }
    let now = services.now();
    if token
        .last_used_at
        .is_none_or(|used| now - used >= TOKEN_USE_RECORD_SECS)
    {
        let mut active: api_token::ActiveModel = token.clone().into();
        active.last_used_at = Set(Some(now));
        active.update(&services.db).await?;
    }
    Ok(Principal::GroupToken {
        token_id: token.id,
        name: token.name,
        group_id: token.group_id,
        created_by: token.created_by,
    })
}

/// Checks email and password, rate limited per IP and per account; returns a login token.
pub async fn login(
    services: &Services,
    email: &str,
    password: &str,
    ip: &str,
) -> AppResult<String> {
    let user = check_credentials(services, email, password, ip).await?;
    services.jwt.issue(user.id)
}

/// The person with these credentials, for the API's login and the web's
/// sessions alike: failures count against the client's address and the
/// account, in one limiter.
pub async fn check_credentials(
    services: &Services,
    email: &str,
    password: &str,
    ip: &str,
) -> AppResult<user::Model> {
    let email = email.trim().to_lowercase();
    let keys = [format!("ip:{ip}"), format!("account:{email}")];
    let limiter = &services.login_limiter;
    if let Some(retry_after) = keys.iter().filter_map(|key| limiter.retry_after(key)).max() {
        return Err(AppError::RateLimited { retry_after });
    }
    let user = lookup::user_by_email(&services.db, &email).await?;
    // Invited people have no password yet: checked against the decoy, so
    // they take as long to refuse as anyone.
    let hash = user
        .as_ref()
        .map(|user| user.password_hash.clone())
        .filter(|hash| !hash.is_empty());
    let verified = services
        .passwords
        .verify(password.to_string(), hash)
        .await?;
    match user {
        Some(user) if verified && !user.disabled => {
            limiter.reset(&keys[1]);
            Ok(user)
        }
        _ => {
            for key in &keys {
                limiter.record(key);
            }
            Err(AppError::Unauthorized("wrong email or password".into()))
        }
    }
}

/// The principal of a signed-in person, or `None` when the account is gone
/// or disabled (their session then ends).
pub async fn user_principal(services: &Services, user_id: i64) -> AppResult<Option<Principal>> {
    let user = user::Entity::find_by_id(user_id)
        .one(&services.db)
        .await?
        .filter(|user| !user.disabled);
    match user {
        Some(user) => Ok(Some(principal_for_user(services, user).await?)),
        None => Ok(None),
    }
}
