//! Password hashing with argon2id, off the async workers and bounded: each
//! hash holds about 19 MiB, so only as many run at once as there are cores.

use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// How many hashes run at once by default: one per core.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Runs one argon2 computation when a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|error| AppError::internal("password hashing stopped", error))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|error| AppError::internal("password hashing failed", error))
    }

    /// An argon2id hash of `password` in PHC string format.
    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || hash(&password))
            .await?
            .map_err(|error| AppError::internal("password hashing failed", error.to_string()))
    }

    /// Whether `password` matches `hash`; `None` checks against a decoy, so
    /// that a missing account takes as long to refuse as a wrong password.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        self.run(move || match hash {
            Some(hash) => verify(&password, &hash),
            None => {
                verify(&password, decoy_hash());
                false
            }
        })
        .await
    }
}

fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_round_trip_with_argon2id() {
        let passwords = Passwords::new(1);
        let hash = passwords
            .hash("correct horse".into())
            .await
            .unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        let check = |password: &str, hash: Option<&str>| {
            passwords.verify(password.into(), hash.map(str::to_string))
        };
        assert!(check("correct horse", Some(&hash)).await.unwrap_or(false));
        assert!(!check("wrong", Some(&hash)).await.unwrap_or(true));
        assert!(!check("x", Some("not a hash")).await.unwrap_or(true));
        assert!(!check("decoy password", None).await.unwrap_or(true));
    }
}
