//! When a failed delivery to another server is tried again, and when it is given up.

use super::DeliveryStatus;
use super::limits::{DELIVERY_GIVE_UP_SECS, DELIVERY_RETRY_BASE_SECS, DELIVERY_RETRY_MAX_SECS};

/// What a failed attempt leads to: the status, and when to try next.
/// `age` is how long ago the delivery was queued; `retry_after` what the
/// server asked for (429 and 503 send it); `permanent` a refusal that
/// trying again will not change (410 Gone, 422).
pub fn after_failure(
    attempts: i32,
    age: i64,
    retry_after: Option<i64>,
    permanent: bool,
) -> (DeliveryStatus, i64) {
    if permanent {
        return (DeliveryStatus::Failed, 0);
    }
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let backoff = (DELIVERY_RETRY_BASE_SECS << doublings).min(DELIVERY_RETRY_MAX_SECS);
    let delay = retry_after
        .filter(|asked| *asked > 0)
        .map_or(backoff, |asked| {
            asked.clamp(backoff, DELIVERY_RETRY_MAX_SECS)
        });
    if age + delay > DELIVERY_GIVE_UP_SECS {
        (DeliveryStatus::Dropped, 0)
    } else {
        (DeliveryStatus::Pending, delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_honours_retry_after_and_gives_up_after_days() {
        assert_eq!(
            after_failure(1, 0, None, false),
            (DeliveryStatus::Pending, 30)
        );
        assert_eq!(
            after_failure(3, 100, None, false),
            (DeliveryStatus::Pending, 120)
        );
        assert_eq!(
            after_failure(1, 0, Some(600), false),
            (DeliveryStatus::Pending, 600)
        );
        assert_eq!(
            after_failure(1, 0, Some(999_999), false).1,
            DELIVERY_RETRY_MAX_SECS
        );
        assert_eq!(after_failure(30, 0, None, false).1, DELIVERY_RETRY_MAX_SECS);
        assert_eq!(
            after_failure(2, DELIVERY_GIVE_UP_SECS, None, false).0,
            DeliveryStatus::Dropped
        );
        assert_eq!(after_failure(1, 0, None, true).0, DeliveryStatus::Failed);
    }
}
