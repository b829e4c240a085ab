//! Failed-attempt counting per key (IP, account) over a fixed window.

use std::collections::HashMap;
use std::sync::Mutex;

use super::now;

pub struct RateLimiter {
    max_failures: u32,
    window_secs: i64,
    failures: Mutex<HashMap<String, (i64, u32)>>,
}

/// Above this many keys, expired ones are dropped so the map stays small.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    pub fn new(max_failures: u32, window_secs: i64) -> Self {
        Self {
            max_failures,
            window_secs,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait before `key` may try again, if it is locked out.
    pub fn retry_after(&self, key: &str) -> Option<u64> {
        let now = now();
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (started, count) = failures.get(key)?;
        let ends = started + self.window_secs;
        (*count >= self.max_failures && ends > now).then(|| (ends - now) as u64)
    }

    pub fn record_failure(&self, key: &str) {
        let now = now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, (started, _)| *started + self.window_secs > now);
        }
        let slot = failures.entry(key.to_string()).or_insert((now, 0));
        if slot.0 + self.window_secs <= now {
            *slot = (now, 0);
        }
        slot.1 += 1;
    }

    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_max_failures() {
        let limiter = RateLimiter::new(2, 60);
        limiter.record_failure("ip");
        assert_eq!(limiter.retry_after("ip"), None);
        limiter.record_failure("ip");
        assert!(limiter.retry_after("ip").is_some_and(|secs| secs <= 60));
        assert_eq!(limiter.retry_after("other"), None);
        limiter.reset("ip");
        assert_eq!(limiter.retry_after("ip"), None);
    }
}
