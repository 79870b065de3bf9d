//! The delivery policy: when to retry, when to give up, when to disable an endpoint.

use std::time::Duration;

/// SQS cannot hide a message for longer than this, so no retry may wait longer.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(12 * 60 * 60);
/// At most this many retries after the first attempt.
pub const MAX_RETRIES: usize = 20;

#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryPolicy {
    /// Delay before retry n (after attempt n fails). Its length is the number of retries.
    pub schedule: Vec<Duration>,
    /// Consecutive failed attempts that disable an endpoint.
    pub disable_after: u32,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            schedule: [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600].into_iter().map(Duration::from_secs).collect(),
            disable_after: 10,
            timeout: Duration::from_secs(10),
        }
    }
}

impl DeliveryPolicy {
    /// The first attempt plus every retry; the DLQ's maxReceiveCount.
    pub fn max_attempts(&self) -> u32 {
        self.schedule.len() as u32 + 1
    }

    /// How long to wait after failed attempt `attempt` (1-based), or `None` when it was the
    /// last. `jitter` in [0, 1) spreads retries by ±10% so that failures do not retry in step.
    pub fn retry_delay(&self, attempt: u32, jitter: f64) -> Option<Duration> {
        let base = *self.schedule.get(attempt.checked_sub(1)? as usize)?;
        let factor = 0.9 + 0.2 * jitter.clamp(0.0, 1.0);
        Some(base.mul_f64(factor).min(MAX_RETRY_DELAY))
    }
}

/// The first wait of a delivery deferred because its endpoint was busy with others.
pub const FIRST_DEFERRAL: Duration = Duration::from_secs(1);
/// The longest wait of a deferred delivery.
pub const MAX_DEFERRAL: Duration = Duration::from_secs(5 * 60);

/// How long a delivery deferred for the `deferral`-th time (1-based) waits before it is tried
/// again: one second, doubling, at most five minutes, spread by ±50% with `jitter` in [0, 1)
/// so that the deferred deliveries of one endpoint do not return in step.
pub fn deferral_delay(deferral: u32, jitter: f64) -> Duration {
    let doubled = FIRST_DEFERRAL.saturating_mul(1 << deferral.saturating_sub(1).min(16));
    doubled.min(MAX_DEFERRAL).mul_f64(0.5 + jitter.clamp(0.0, 1.0))
}

/// Parses `5s,5m,30m,2h,5h` (humantime units; an empty string means no retries).
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    let schedule: Vec<Duration> = text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| humantime::parse_duration(part).map_err(|e| format!("{part:?}: {e}")))
        .collect::<Result<_, _>>()?;
    if schedule.len() > MAX_RETRIES {
        return Err(format!("at most {MAX_RETRIES} retries"));
    }
    if let Some(too_long) = schedule.iter().find(|d| **d > MAX_RETRY_DELAY) {
        return Err(format!("{too_long:?} is longer than the 12 h maximum"));
    }
    Ok(schedule)
}

/// A number in [0, 1) for [`DeliveryPolicy::retry_delay`].
pub fn random_jitter() -> f64 {
    let bytes = crate::ids::random_bytes::<4>();
    u32::from_le_bytes(bytes) as f64 / (u32::MAX as f64 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_is_five_retries_from_5s_to_5h() {
        let policy = DeliveryPolicy::default();
        assert_eq!(policy.max_attempts(), 6);
        assert_eq!(policy.retry_delay(1, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(policy.retry_delay(5, 0.5), Some(Duration::from_secs(5 * 3600)));
        assert_eq!(policy.retry_delay(6, 0.5), None, "the sixth attempt is the last");
        assert_eq!(policy.retry_delay(0, 0.5), None);
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let policy = DeliveryPolicy::default();
        assert_eq!(policy.retry_delay(2, 0.0), Some(Duration::from_secs(270)));
        assert_eq!(policy.retry_delay(2, 1.0), Some(Duration::from_secs(330)));
    }

    #[test]
    fn deferrals_double_from_a_second_to_five_minutes() {
        let waits: Vec<u64> = (1..=12).map(|n| deferral_delay(n, 0.5).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(deferral_delay(u32::MAX, 0.5), MAX_DEFERRAL);
        assert_eq!(deferral_delay(1, 0.0), Duration::from_millis(500));
        assert_eq!(deferral_delay(20, 1.0), Duration::from_secs(450), "within SQS's 15-minute delay limit");
    }

    #[test]
    fn schedules_parse_and_are_bounded() {
        assert_eq!(parse_schedule("1s, 2m,1h").unwrap(), [1, 120, 3600].map(Duration::from_secs).to_vec());
        assert_eq!(parse_schedule("").unwrap(), Vec::<Duration>::new());
        assert!(parse_schedule("13h").is_err());
        assert!(parse_schedule("soon").is_err());
        assert!(parse_schedule(&vec!["1s"; 21].join(",")).is_err());
    }
}
