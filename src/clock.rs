//! The service's idea of now: the system clock, or a manual one that tests
//! move forward (the feed scheduler follows it), so no test sleeps to expire
//! an entry.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// Unix time in seconds, shared by everything that asks what time it is.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<ManualTime>>);

#[derive(Debug)]
struct ManualTime {
    now: AtomicI64,
    moved: Notify,
}

impl Clock {
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: i64) -> Self {
        Self(Some(Arc::new(ManualTime {
            now: AtomicI64::new(start),
            moved: Notify::new(),
        })))
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        match &self.0 {
            None => chrono::Utc::now().timestamp(),
            Some(manual) => manual.now.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward by `seconds` and wakes whoever sleeps on
    /// it; the system clock cannot be moved, so it ignores this.
    pub fn advance(&self, seconds: i64) {
        if let Some(manual) = &self.0 {
            manual.now.fetch_add(seconds, Ordering::SeqCst);
            manual.moved.notify_waiters();
        }
    }

    /// Returns once the clock has reached the start of second `instant`.
    pub async fn sleep_until(&self, instant: i64) {
        match &self.0 {
            None => {
                let now_ms = chrono::Utc::now().timestamp_millis();
                // A little past the second, so that `now()` has reached it.
                let due_ms = instant.saturating_mul(1000).saturating_add(5);
                let wait = u64::try_from(due_ms - now_ms).unwrap_or(0);
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            Some(manual) => loop {
                let moved = manual.moved.notified();
                tokio::pin!(moved);
                moved.as_mut().enable();
                if manual.now.load(Ordering::SeqCst) >= instant {
                    return;
                }
                moved.await;
            },
        }
    }

    /// How a background worker waits for work: until this clock reaches
    /// `due` (when something is due), `wake` is notified (when new work can
    /// say so), or `poll` has passed, whichever comes first.
    pub async fn idle(&self, due: Option<i64>, wake: Option<&Notify>, poll: Duration) {
        tokio::select! {
            () = async {
                match due {
                    Some(due) => self.sleep_until(due).await,
                    None => std::future::pending().await,
                }
            } => {}
            () = async {
                match wake {
                    Some(wake) => wake.notified().await,
                    None => std::future::pending().await,
                }
            } => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now(), 1_000);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(1_010).await }
        });
        tokio::task::yield_now().await;
        clock.advance(5);
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(5);
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("the sleeper did not wake"));
        assert_eq!(clock.now(), 1_010);
    }
}
