//! The slow lane, for the sender on Lambda. An invocation lasts as long as its slowest
//! delivery, so one receiver that hangs would hold a share of the sender's concurrency for a
//! whole timeout per batch. On the main lane a request gets [`SLOW_AFTER`]; one still open then
//! is dropped, its endpoint remembered as slow for [`COOL_DOWN`], and the delivery moved (no
//! attempt recorded) to the slow-lane queue, whose own event source, with a concurrency of
//! its own, gives every request the full timeout. While remembered, the endpoint's deliveries
//! move before any request. A receiver may see a moved delivery twice, with the same
//! `webhook-id` (it got the dropped request); receivers deduplicate on it. At most
//! [`MAIN_LANE_PER_ENDPOINT`] requests per endpoint are open in one environment, so few are
//! dropped before the endpoint is known to be slow.
//!
//! `serve` has no slow lane: one process bounds each endpoint's open requests instead
//! ([`super::in_flight`]), and nothing waits for a batch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use webhooks::ids::EndpointId;

pub use super::in_flight::SLOW_AFTER;

/// Requests one Lambda environment has open to one endpoint on the main lane: a batch's
/// other deliveries to it wait for a turn, and move to the slow lane unsent if none comes
/// within [`SLOW_AFTER`], so a slow receiver gets at most this many requests dropped (and
/// then sent again) per environment.
pub const MAIN_LANE_PER_ENDPOINT: usize = 4;
/// How long an environment sends an endpoint's deliveries straight to the slow lane after
/// one of them was too slow for the main lane; then one request tries the main lane again.
pub const COOL_DOWN: Duration = Duration::from_secs(5 * 60);
/// Endpoints remembered at most; the memory starts over past this.
const REMEMBERED: usize = 10_000;

/// The slow-lane queue and the endpoints this process has seen to be slow.
pub struct SlowLane<Q> {
    pub queue: Q,
    slow_until: Mutex<HashMap<EndpointId, Instant>>,
}

impl<Q> SlowLane<Q> {
    pub fn new(queue: Q) -> Self {
        Self { queue, slow_until: Mutex::default() }
    }

    /// Whether `endpoint`'s deliveries go to the slow lane without trying the main one.
    pub fn is_slow(&self, endpoint: &EndpointId) -> bool {
        let mut slow = self.slow_until.lock().expect("slow endpoints");
        match slow.get(endpoint) {
            Some(until) if Instant::now() < *until => true,
            Some(_) => {
                slow.remove(endpoint);
                false
            }
            None => false,
        }
    }

    /// Remembers `endpoint` as slow for [`COOL_DOWN`].
    pub fn remember(&self, endpoint: &EndpointId) {
        let mut slow = self.slow_until.lock().expect("slow endpoints");
        if slow.len() >= REMEMBERED {
            slow.clear();
        }
        slow.insert(endpoint.clone(), Instant::now() + COOL_DOWN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_endpoint_is_slow_for_the_cool_down_then_tried_again() {
        let lane = SlowLane::new(());
        let endpoint = EndpointId::generate(webhooks::time::Timestamp::now());
        assert!(!lane.is_slow(&endpoint));
        lane.remember(&endpoint);
        assert!(lane.is_slow(&endpoint));
        tokio::time::advance(COOL_DOWN - Duration::from_secs(1)).await;
        assert!(lane.is_slow(&endpoint));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!lane.is_slow(&endpoint));
        assert!(lane.slow_until.lock().unwrap().is_empty(), "forgotten once the cool-down is over");
    }
}
