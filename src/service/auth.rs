//! Passwords (argon2id), login tokens (JWT HS256) and group API tokens (sha256-hashed).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::now;
use crate::domain::authz::Principal;
use crate::domain::{GroupRole, GroupStatus, Role};
use crate::entities::{api_token, group, membership, user};
use crate::error::{AppError, AppResult};
use crate::{AppState, Config};

/// Prefix that tells group API tokens from login JWTs.
pub const API_TOKEN_PREFIX: &str = "nf_";

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::Internal(format!("password hashing failed: {error}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that a
/// missing account takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password").unwrap_or_default())
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// A new API token secret: `nf_` + 64 hex characters.
pub fn new_api_token_secret() -> String {
    format!("{API_TOKEN_PREFIX}{}", random_hex(32))
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: i64,
}

impl JwtKeys {
    pub fn from_config(config: &Config) -> AppResult<Self> {
        let secret = match &config.jwt_secret {
            Some(secret) if secret.len() >= 32 => secret.clone(),
            Some(_) => {
                return Err(AppError::BadRequest(
                    "NEWSFEED_JWT_SECRET must be at least 32 characters".into(),
                ));
            }
            None if config.production => {
                return Err(AppError::BadRequest(
                    "NEWSFEED_JWT_SECRET is required in production mode".into(),
                ));
            }
            None => {
                tracing::warn!(
                    "no NEWSFEED_JWT_SECRET set: using a random one, logins end when the process restarts"
                );
                random_hex(32)
            }
        };
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            ttl: i64::try_from(config.token_ttl).unwrap_or(i64::MAX / 2),
        })
    }

    pub fn ttl(&self) -> i64 {
        self.ttl
    }

    pub fn issue(&self, user_id: i64) -> AppResult<String> {
        let iat = now();
        let claims = Claims {
            sub: user_id.to_string(),
            iat,
            exp: iat.saturating_add(self.ttl),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| AppError::Internal(format!("token signing failed: {error}")))
    }

    fn user_id(&self, token: &str) -> Option<i64> {
        let validation = Validation::new(Algorithm::HS256);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims
            .sub
            .parse()
            .ok()
    }
}

fn unauthorized() -> AppError {
    AppError::Unauthorized("invalid or expired credentials".into())
}

/// Resolves a bearer credential (JWT or group API token) to a principal.
pub async fn authenticate(state: &AppState, bearer: &str) -> AppResult<Principal> {
    if bearer.starts_with(API_TOKEN_PREFIX) {
        return authenticate_api_token(state, bearer).await;
    }
    let user_id = state.jwt.user_id(bearer).ok_or_else(unauthorized)?;
    let user = user::Entity::find_by_id(user_id)
        .one(&state.db)
        .await?
        .filter(|user| !user.disabled)
        .ok_or_else(unauthorized)?;
    principal_for_user(state, user).await
}

pub async fn principal_for_user(state: &AppState, user: user::Model) -> AppResult<Principal> {
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.id))
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|m| Some((m.group_id, GroupRole::parse(&m.role)?)))
        .collect();
    Ok(Principal::User {
        id: user.id,
        name: user.display_name,
        role: Role::parse(&user.role).unwrap_or(Role::Member),
        memberships,
    })
}

async fn authenticate_api_token(state: &AppState, secret: &str) -> AppResult<Principal> {
    let token = api_token::Entity::find()
        .filter(api_token::Column::SecretSha256.eq(sha256_hex(secret)))
        .one(&state.db)
        .await?
        .filter(|token| token.revoked_at.is_none())
        .ok_or_else(unauthorized)?;
    let group_active = group::Entity::find_by_id(token.group_id)
        .one(&state.db)
        .await?
        .is_some_and(|group| group.status != GroupStatus::Removed.as_str());
    if !group_active {
        return Err(unauthorized());
    }
    // Record use at most once a minute: a busy CI job should not write on every call.
    let now = now();
    if token.last_used_at.is_none_or(|used| now - used >= 60) {
        let mut active: api_token::ActiveModel = token.clone().into();
        active.last_used_at = Set(Some(now));
        active.update(&state.db).await?;
    }
    Ok(Principal::GroupToken {
        token_id: token.id,
        name: token.name,
        group_id: token.group_id,
        created_by: token.created_by,
    })
}

/// Checks email and password, rate limited per IP and per account.
pub async fn login(state: &AppState, email: &str, password: &str, ip: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    let keys = [format!("ip:{ip}"), format!("account:{email}")];
    if let Some(retry_after) = keys
        .iter()
        .filter_map(|key| state.login_limiter.retry_after(key))
        .max()
    {
        return Err(AppError::TooManyRequests { retry_after });
    }
    // Through `find_by_email`, which also turns away addresses PostgreSQL cannot compare (NUL).
    let user = super::users::find_by_email(&state.db, &email).await?;
    let hash = user
        .as_ref()
        .map_or(decoy_hash(), |user| &user.password_hash);
    let password = password.to_string();
    let hash = hash.to_string();
    // argon2 is deliberately slow: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|error| AppError::Internal(error.to_string()))?;
    match user {
        Some(user) if verified && !user.disabled => {
            state.login_limiter.reset(&keys[1]);
            state.jwt.issue(user.id)
        }
        _ => {
            for key in &keys {
                state.login_limiter.record(key);
            }
            Err(AppError::Unauthorized("wrong email or password".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_with_argon2id() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn api_tokens_look_like_tokens() {
        let secret = new_api_token_secret();
        assert!(secret.starts_with(API_TOKEN_PREFIX));
        assert_eq!(secret.len(), 3 + 64);
        assert_ne!(secret, new_api_token_secret());
        assert_eq!(sha256_hex(&secret).len(), 64);
    }
}
