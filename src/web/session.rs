//! poem's server-side sessions over our database, and the cookie settings of
//! the session and the CSRF protection, keyed from the configured secret.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::middleware::Csrf;
use poem::session::{CookieConfig, ServerSession, SessionStorage};
use poem::web::cookie::{CookieKey, SameSite};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use crate::Config;
use crate::service::{Services, sessions, tokens};

/// Session storage in the `web_sessions` table, timed by the services' clock.
pub struct DbSessions {
    services: Arc<Services>,
}

fn storage_error(error: crate::AppError) -> poem::Error {
    tracing::error!(%error, "session storage failed");
    poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR)
}

impl DbSessions {
    pub fn new(services: Arc<Services>) -> Self {
        Self { services }
    }
}

/// The entry a loaded session carries to say under which id it was loaded
/// (in memory only: it is taken out before the entries are stored): poem
/// writes new and loaded sessions through the same call, and only a loaded
/// one may be updated (never re-created once revoked).
const LOADED_AS: &str = "\0loaded_as";

impl SessionStorage for DbSessions {
    async fn load_session<'a>(
        &'a self,
        session_id: &'a str,
    ) -> poem::Result<Option<BTreeMap<String, Value>>> {
        let loaded = sessions::load(&self.services, session_id)
            .await
            .map_err(storage_error)?;
        Ok(loaded.map(|mut entries| {
            entries.insert(LOADED_AS.into(), Value::from(session_id));
            entries
        }))
    }

    async fn update_session<'a>(
        &'a self,
        session_id: &'a str,
        entries: &'a BTreeMap<String, Value>,
        expires: Option<Duration>,
    ) -> poem::Result<()> {
        let ttl = expires.map_or(0, |ttl| i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
        let mut entries = entries.clone();
        let loaded_as = entries.remove(LOADED_AS);
        let stored = if loaded_as.as_ref().and_then(Value::as_str) == Some(session_id) {
            sessions::update(&self.services, session_id, &entries, ttl).await
        } else {
            // A new id (a first write, or a renewal after sign-in).
            sessions::create(&self.services, session_id, &entries, ttl).await
        };
        stored.map_err(storage_error)
    }

    async fn remove_session<'a>(&'a self, session_id: &'a str) -> poem::Result<()> {
        sessions::remove(&self.services, session_id)
            .await
            .map_err(storage_error)
    }
}

/// Cookies are `Secure` when the public URL is https.
fn secure(config: &Config) -> bool {
    config.public_base_url().starts_with("https://")
}

/// Key material for the cookies: derived from the JWT secret, so every
/// instance with the same configuration shares it; random without one.
fn master_secret(config: &Config) -> String {
    config
        .jwt_secret
        .clone()
        .unwrap_or_else(|| tokens::random_hex(32))
}

/// The session middleware: an encrypted (private) cookie holding a random
/// id, HttpOnly, SameSite=Lax, expiring with the session.
pub fn session_layer(config: &Config, services: Arc<Services>) -> ServerSession<DbSessions> {
    let key = Sha512::digest(format!(
        "newsfeed session cookie\0{}",
        master_secret(config)
    ));
    let cookie = CookieConfig::private(CookieKey::from(&key[..]))
        .name("newsfeed_session")
        .path("/")
        .secure(secure(config))
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(Duration::from_secs(config.session_ttl));
    ServerSession::new(cookie, DbSessions::new(services))
}

/// The CSRF middleware: a token per form, checked against an encrypted
/// cookie by every POST handler.
pub fn csrf_layer(config: &Config) -> Csrf {
    let key: [u8; 32] = Sha256::digest(format!("newsfeed csrf\0{}", master_secret(config))).into();
    Csrf::new()
        .cookie_name("newsfeed_csrf")
        .key(key)
        .secure(secure(config))
        .http_only(true)
        .same_site(SameSite::Lax)
        .ttl(Duration::from_secs(config.session_ttl.max(3600)))
}
