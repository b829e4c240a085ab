//! Audience counters of the QGIS feed: lock-free atomics in fixed arrays,
//! one array per day (two days in turn), added into the database by a
//! background flush. No address, cookie or per-request record is kept,
//! and counting a request neither allocates nor touches the database.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::domain::audience::{DailyCount, Key, MAJOR_LABELS, SLOTS};

/// The counters of one day.
struct Day {
    /// The day number these counters belong to.
    day: AtomicI64,
    counters: Box<[AtomicU64]>,
}

impl Day {
    fn new() -> Self {
        Self {
            day: AtomicI64::new(i64::MIN),
            counters: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// Today's and yesterday's counters (a day's slot is reused two days
/// later, long after the flush every minute has emptied it), and totals
/// for monitoring.
pub struct Audience {
    days: [Day; 2],
    /// QGIS requests by major version since the start (the Prometheus counter).
    pub by_major: [AtomicU64; MAJOR_LABELS.len()],
    /// Flushes that wrote to the database, and the rows they wrote.
    pub flushes: AtomicU64,
    pub rows_written: AtomicU64,
}

impl Default for Audience {
    fn default() -> Self {
        Self {
            days: [Day::new(), Day::new()],
            by_major: std::array::from_fn(|_| AtomicU64::new(0)),
            flushes: AtomicU64::new(0),
            rows_written: AtomicU64::new(0),
        }
    }
}

impl Audience {
    /// Counts one request on `day` under `key`.
    pub fn count(&self, day: i64, key: Key) {
        let slot = self.day(day);
        for index in key.slots {
            if let Some(counter) = slot.counters.get(index) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(counter) = self.by_major.get(key.major) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counters of `day`, taken over from the day two before if need be.
    fn day(&self, day: i64) -> &Day {
        let slot = &self.days[usize::from(day.rem_euclid(2) == 1)];
        let held = slot.day.load(Ordering::Acquire);
        if held != day {
            // The first request of a day claims the slot; a loser of the
            // race sees the winner's day, which is the same one.
            let _ = slot
                .day
                .compare_exchange(held, day, Ordering::AcqRel, Ordering::Acquire);
        }
        slot
    }

    /// Takes every non-zero counter, leaving zeros behind.
    pub fn drain(&self) -> Vec<DailyCount> {
        let mut taken = Vec::new();
        for slot in &self.days {
            let day = slot.day.load(Ordering::Acquire);
            for (index, counter) in slot.counters.iter().enumerate() {
                if counter.load(Ordering::Relaxed) > 0 {
                    let requests = counter.swap(0, Ordering::Relaxed);
                    if requests > 0 {
                        taken.push(DailyCount {
                            day,
                            slot: index,
                            requests,
                        });
                    }
                }
            }
        }
        taken
    }

    /// Puts counts a failed flush took back, for the next flush.
    pub fn restore(&self, counts: &[DailyCount]) {
        for count in counts {
            let slot = self.day(count.day);
            if let Some(counter) = slot.counters.get(count.slot) {
                counter.fetch_add(count.requests, Ordering::Relaxed);
            }
        }
    }

    /// Records a flush that wrote `rows` rows.
    pub fn flushed(&self, rows: usize) {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        self.rows_written
            .fetch_add(u64::try_from(rows).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_drained_once() {
        let audience = Audience::default();
        let key = Key::of("QGIS/33600/Linux", Some("DE"), Some("de")).unwrap_or(Key {
            slots: [0; 4],
            major: 0,
        });
        for _ in 0..3 {
            audience.count(20_000, key);
        }
        audience.count(20_001, key);
        let taken = audience.drain();
        assert_eq!(taken.len(), 8);
        assert_eq!(
            taken.iter().map(|c| c.requests).sum::<u64>(),
            4 * 4,
            "{taken:?}"
        );
        assert!(audience.drain().is_empty());
        audience.restore(&taken);
        assert_eq!(audience.drain(), taken);
        assert_eq!(audience.by_major[0].load(Ordering::Relaxed), 4);
    }
}
