//! Password hashing with argon2id, off the async workers and bounded: each
//! hash holds about 19 MiB, so only as many run at once as there are cores,
//! a bounded number wait, and the rest are told to come back (503).

use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Checks waiting for a permit or running.
    queued: AtomicUsize,
    max_queued: usize,
    running: Arc<AtomicUsize>,
    /// The most that ever ran at once (for tests and metrics).
    peak: Arc<AtomicUsize>,
}

/// Seconds a client refused for a full queue should wait.
const BUSY_RETRY_SECS: u64 = 1;

impl Passwords {
    /// At most `concurrency` hashes at once, and `max_waiting` more in line.
    pub fn new(concurrency: usize, max_waiting: usize) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            queued: AtomicUsize::new(0),
            max_queued: concurrency + max_waiting,
            running: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many hashes ran at once at most since the start.
    pub fn peak_concurrency(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// How many checks are waiting or running now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Runs one argon2 computation when a permit is free, if the line is not full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(AppError::Unavailable {
                retry_after: BUSY_RETRY_SECS,
            });
        }
        let result = self.run_queued(work).await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        result
    }

    async fn run_queued<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|error| AppError::internal("password hashing stopped", error))?;
        let (running, peak) = (self.running.clone(), self.peak.clone());
        let result = tokio::task::spawn_blocking(move || {
            // Counted inside the blocking task, where the memory is used.
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let result = work();
            running.fetch_sub(1, Ordering::SeqCst);
            result
        })
        .await
        .map_err(|error| AppError::internal("password hashing failed", error));
        // Released once the blocking thread is free again, so the next check
        // reuses it instead of starting another thread (with its own arena).
        drop(permit);
        result
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
        let passwords = Passwords::new(1, 0);
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
