//! Credentials as strings: login tokens (JWT HS256) and group API tokens
//! (random secrets of which only the sha256 is stored).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Config;
use crate::clock::Clock;
use crate::error::{AppError, AppResult, StartupError};

/// Prefix that tells group API tokens from login JWTs.
pub const API_TOKEN_PREFIX: &str = "nf_";
/// Shortest JWT secret accepted.
const MIN_SECRET_CHARS: usize = 32;

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `bytes` random bytes as hex.
pub fn random_hex(bytes: usize) -> String {
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
    /// The person's `credentials_version` when issued: bumped on disable, so
    /// re-enabling never revives older tokens.
    ver: i32,
}

/// Who a valid login token was issued to, and under which credentials version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenSubject {
    pub user_id: i64,
    pub credentials_version: i32,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: i64,
    clock: Clock,
}

impl JwtKeys {
    /// Keys from `--jwt-secret`; without one (outside production) a random
    /// secret, so logins end when the process does.
    pub fn from_config(config: &Config, clock: &Clock) -> Result<Self, StartupError> {
        let secret = match &config.jwt_secret {
            Some(secret) if secret.chars().count() >= MIN_SECRET_CHARS => secret.clone(),
            Some(_) => {
                return Err(StartupError::Config(format!(
                    "NEWSFEED_JWT_SECRET must be at least {MIN_SECRET_CHARS} characters"
                )));
            }
            None if config.production => {
                return Err(StartupError::Config(
                    "NEWSFEED_JWT_SECRET is required in production mode".into(),
                ));
            }
            None => random_hex(32),
        };
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            ttl: i64::try_from(config.token_ttl).unwrap_or(i64::MAX / 2),
            clock: clock.clone(),
        })
    }

    pub fn ttl(&self) -> i64 {
        self.ttl
    }

    pub fn issue(&self, user_id: i64, credentials_version: i32) -> AppResult<String> {
        let iat = self.clock.now();
        let claims = Claims {
            sub: user_id.to_string(),
            iat,
            exp: iat.saturating_add(self.ttl),
            ver: credentials_version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| AppError::internal("token signing failed", error))
    }

    /// Whom a valid, unexpired token was issued to.
    pub fn subject(&self, token: &str) -> Option<TokenSubject> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is judged by our clock, not the library's.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        if claims.exp <= self.clock.now() {
            return None;
        }
        Some(TokenSubject {
            user_id: claims.sub.parse().ok()?,
            credentials_version: claims.ver,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_tokens_look_like_tokens() {
        let secret = new_api_token_secret();
        assert!(secret.starts_with(API_TOKEN_PREFIX));
        assert_eq!(secret.len(), 3 + 64);
        assert_ne!(secret, new_api_token_secret());
        assert_eq!(sha256_hex(&secret).len(), 64);
    }

    #[test]
    fn login_tokens_expire_by_the_clock() {
        let clock = Clock::manual(1_000_000);
        let config = Config {
            jwt_secret: Some("x".repeat(32)),
            token_ttl: 60,
            ..Config::default()
        };
        let keys = JwtKeys::from_config(&config, &clock).unwrap_or_else(|e| panic!("{e}"));
        let token = keys.issue(7, 2).unwrap_or_default();
        let subject = TokenSubject {
            user_id: 7,
            credentials_version: 2,
        };
        assert_eq!(keys.subject(&token), Some(subject));
        clock.advance(60);
        assert_eq!(keys.subject(&token), None);
        assert_eq!(keys.subject("garbage"), None);
    }
}
