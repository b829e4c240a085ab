//! Attempt counting per key (IP, account) over a fixed window: failed logins,
//! public access requests.

use std::collections::HashMap;
use std::sync::Mutex;

use super::now;

pub struct RateLimiter {
    max_attempts: u32,
    window_secs: i64,
    attempts: Mutex<HashMap<String, (i64, u32)>>,
}

/// Above this many keys, expired ones are dropped so the map stays small.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    pub fn new(max_attempts: u32, window_secs: i64) -> Self {
        Self {
            max_attempts,
            window_secs,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait before `key` may try again, if it is locked out.
    pub fn retry_after(&self, key: &str) -> Option<u64> {
        let now = now();
        let attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let (started, count) = attempts.get(key)?;
        let ends = started + self.window_secs;
        (*count >= self.max_attempts && ends > now).then(|| (ends - now) as u64)
    }

    pub fn record(&self, key: &str) {
        let now = now();
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if attempts.len() > PRUNE_ABOVE {
            attempts.retain(|_, (started, _)| *started + self.window_secs > now);
        }
        let slot = attempts.entry(key.to_string()).or_insert((now, 0));
        if slot.0 + self.window_secs <= now {
            *slot = (now, 0);
        }
        slot.1 += 1;
    }

    pub fn reset(&self, key: &str) {
        self.attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_max_attempts() {
        let limiter = RateLimiter::new(2, 60);
        limiter.record("ip");
        assert_eq!(limiter.retry_after("ip"), None);
        limiter.record("ip");
        assert!(limiter.retry_after("ip").is_some_and(|secs| secs <= 60));
        assert_eq!(limiter.retry_after("other"), None);
        limiter.reset("ip");
        assert_eq!(limiter.retry_after("ip"), None);
    }
}
