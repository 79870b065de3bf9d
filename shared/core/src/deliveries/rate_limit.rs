//! An endpoint's `rate_limit`: at most that many deliveries are attempted to it in any one
//! second (Unix seconds, as the signed `webhook-timestamp` says). Each attempt is counted
//! first ([`RateCounter`]); one counted past the limit is not
//! attempted but deferred to the second its place in line falls in, so a backlog drains at the
//! limit and a deferral uses up no attempt.

use std::future::Future;
use std::time::Duration;

use crate::ids::EndpointId;
use crate::ports::StoreError;
use crate::queues::MAX_SEND_DELAY;

/// The largest `rate_limit`: what one DynamoDB partition takes in writes per second.
pub const MAX_RATE_LIMIT: u32 = 1000;

/// When the delivery counted `counted`-th in its second (1-based) may go, for an endpoint
/// limited to `limit` a second: `None` for now, else the wait to the second in which its
/// place past the limit falls (whole seconds, at most the queue's longest delay).
pub fn rate_delay(counted: u32, limit: u32) -> Option<Duration> {
    let limit = limit.max(1);
    let past = counted.checked_sub(limit).filter(|past| *past > 0)?;
    let seconds_ahead = past.div_ceil(limit);
    Some(Duration::from_secs(u64::from(seconds_ahead)).min(MAX_SEND_DELAY))
}

/// Deliveries counted per endpoint and second, for an endpoint's `rate_limit`.
pub trait RateCounter: Send + Sync + 'static {
    /// Adds one to the count of `endpoint` in second `second` (Unix seconds) and answers the
    /// count, this one included. MUST be atomic (concurrent calls answer distinct counts) and
    /// MUST start each second at zero; a second's count may be forgotten once it is over.
    fn count(&self, endpoint: &EndpointId, second: i64) -> impl Future<Output = Result<u32, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_limit_go_now_the_rest_to_the_seconds_their_places_fall_in() {
        let waits: Vec<Option<u64>> = (1..=12).map(|n| rate_delay(n, 5).map(|d| d.as_secs())).collect();
        assert_eq!(
            waits,
            [None, None, None, None, None, Some(1), Some(1), Some(1), Some(1), Some(1), Some(2), Some(2)]
        );
        assert_eq!(rate_delay(1, 1), None);
        assert_eq!(rate_delay(2, 1), Some(Duration::from_secs(1)));
        assert_eq!(rate_delay(u32::MAX, 1), Some(MAX_SEND_DELAY), "never past the queue's longest delay");
        assert_eq!(rate_delay(3, 0), Some(Duration::from_secs(2)), "a zero limit is read as one");
    }
}
