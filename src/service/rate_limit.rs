//! Attempt counting per key (IP, account) over a fixed window: failed logins,
//! public access requests.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::Clock;

pub struct RateLimiter {
    max_attempts: u32,
    window_secs: i64,
    clock: Clock,
    attempts: Mutex<HashMap<String, (i64, u32)>>,
}

/// Above this many keys, expired ones are dropped so the map stays small.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    pub fn new(max_attempts: u32, window_secs: i64, clock: Clock) -> Self {
        Self {
            max_attempts,
            window_secs,
            clock,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait before `key` may try again, if it is locked out.
    pub fn retry_after(&self, key: &str) -> Option<u64> {
        let now = self.clock.now();
        let attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let (started, count) = attempts.get(key)?;
        let ends = started + self.window_secs;
        (*count >= self.max_attempts && ends > now).then(|| u64::try_from(ends - now).unwrap_or(0))
    }

    pub fn record(&self, key: &str) {
        let now = self.clock.now();
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
    fn locks_out_after_max_attempts_until_the_window_ends() {
        let clock = Clock::manual(1_000);
        let limiter = RateLimiter::new(2, 60, clock.clone());
        limiter.record("ip");
        assert_eq!(limiter.retry_after("ip"), None);
        limiter.record("ip");
        assert_eq!(limiter.retry_after("ip"), Some(60));
        assert_eq!(limiter.retry_after("other"), None);
        clock.advance(59);
        assert_eq!(limiter.retry_after("ip"), Some(1));
        clock.advance(1);
        assert_eq!(limiter.retry_after("ip"), None);
        limiter.record("ip");
        limiter.record("ip");
        limiter.reset("ip");
        assert_eq!(limiter.retry_after("ip"), None);
    }
}
