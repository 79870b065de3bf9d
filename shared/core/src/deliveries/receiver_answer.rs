//! What a receiver's answer means for the delivery and the endpoint: a 2xx is delivered; 410
//! Gone disables the endpoint at once (the receiver says it is gone for good); 429 or 503
//! with `Retry-After` is a receiver that is alive but busy: the retry waits as asked, within
//! the schedule's bounds, and the failure does not count toward auto-disable; anything else
//! is a plain failure.

use std::time::Duration;

use crate::deliveries::retry::{DeliveryPolicy, MAX_RETRY_DELAY};

/// The reason an endpoint disabled by a 410 shows.
pub const GONE_REASON: &str = "the receiver answered 410 Gone";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Delivered,
    /// 410: disable the endpoint now, retry nothing.
    Gone,
    /// 429 or 503 with `Retry-After`: retry after at least that long; not a failure toward
    /// auto-disable.
    Busy(Duration),
    /// Any other status, or no answer at all.
    Failed,
}

/// Reads a receiver's status and `Retry-After` (if it sent one).
pub fn classify(status: Option<u16>, retry_after: Option<Duration>) -> Answer {
    match (status, retry_after) {
        (Some(200..=299), _) => Answer::Delivered,
        (Some(410), _) => Answer::Gone,
        (Some(429 | 503), Some(wait)) => Answer::Busy(wait),
        _ => Answer::Failed,
    }
}

/// The delay before the retry after failed attempt `attempt`, honouring a busy receiver's
/// `Retry-After` within the schedule's bounds: never sooner than the schedule says, never
/// later than its longest delay. `None` when that attempt was the last.
pub fn retry_delay(policy: &DeliveryPolicy, attempt: u32, jitter: f64, answer: Answer) -> Option<Duration> {
    let scheduled = policy.retry_delay(attempt, jitter)?;
    let Answer::Busy(asked) = answer else { return Some(scheduled) };
    let longest = policy.schedule.iter().max().copied().unwrap_or_default().min(MAX_RETRY_DELAY);
    Some(scheduled.max(asked.min(longest)))
}

/// Parses a `Retry-After` value: seconds, or an HTTP date (then the time from `now` to it).
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(schedule: &[u64]) -> DeliveryPolicy {
        DeliveryPolicy { schedule: schedule.iter().map(|s| Duration::from_secs(*s)).collect(), ..Default::default() }
    }

    #[test]
    fn statuses_are_classified() {
        let wait = Some(Duration::from_secs(30));
        assert_eq!(classify(Some(204), None), Answer::Delivered);
        assert_eq!(classify(Some(410), wait), Answer::Gone);
        assert_eq!(classify(Some(429), wait), Answer::Busy(Duration::from_secs(30)));
        assert_eq!(classify(Some(503), wait), Answer::Busy(Duration::from_secs(30)));
        assert_eq!(classify(Some(429), None), Answer::Failed, "no Retry-After: a plain failure");
        assert_eq!(classify(Some(500), wait), Answer::Failed, "Retry-After only counts on 429 and 503");
        assert_eq!(classify(Some(302), None), Answer::Failed);
        assert_eq!(classify(None, None), Answer::Failed);
    }

    #[test]
    fn retry_after_is_honoured_within_the_schedule() {
        let policy = policy(&[5, 60, 600]);
        let busy = |s| Answer::Busy(Duration::from_secs(s));
        assert_eq!(retry_delay(&policy, 1, 0.5, busy(30)), Some(Duration::from_secs(30)), "waits as asked");
        assert_eq!(retry_delay(&policy, 1, 0.5, busy(1)), Some(Duration::from_secs(5)), "never sooner");
        assert_eq!(retry_delay(&policy, 1, 0.5, busy(86_400)), Some(Duration::from_secs(600)), "never later");
        assert_eq!(retry_delay(&policy, 2, 0.5, Answer::Failed), Some(Duration::from_secs(60)));
        assert_eq!(retry_delay(&policy, 4, 0.5, busy(30)), None, "the last attempt stays the last");
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Wed, 02 Dec 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 02 Dec 2026 10:01:30 GMT", now), Some(Duration::from_secs(90)));
        assert_eq!(parse_retry_after("Wed, 02 Dec 2026 09:00:00 GMT", now), Some(Duration::ZERO), "in the past");
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
