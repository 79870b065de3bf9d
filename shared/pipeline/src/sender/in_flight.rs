//! The per-endpoint in-flight bound: one sender process has at most [`PER_ENDPOINT`] requests
//! open to one endpoint at a time (`serve --endpoint-concurrency`). Past that, a delivery
//! waits for a turn while the endpoint answers quickly, however long the line, and is
//! deferred by the caller (no attempt made) once it is slow: a request of it has been open
//! for [`SLOW_AFTER`], or its last answer took that long. So a receiver that hangs or
//! answers slowly holds a small, fixed share of the sender's slots and every other endpoint
//! keeps the rest, while a burst to a fast endpoint just queues: deferral is for slow
//! receivers, not for a backlog the sender is working through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use webhooks::ids::EndpointId;

/// Requests one sender process has open to one endpoint at once, unless configured.
pub const PER_ENDPOINT: usize = 16;
/// The most `serve --endpoint-concurrency` takes.
pub const MAX_PER_ENDPOINT: usize = 1000;
/// An endpoint is slow while a request to it has been open this long, or its last answer
/// took this long; also how long a delivery waits for a turn before it is deferred.
pub const SLOW_AFTER: Duration = Duration::from_secs(1);

type Lanes = Arc<Mutex<HashMap<EndpointId, Lane>>>;

/// The endpoints with requests open or deliveries waiting; an endpoint leaves the map when
/// it has neither, so the map is as large as the sender's slots at most.
#[derive(Clone)]
pub struct InFlight {
    lanes: Lanes,
    per_endpoint: usize,
}

impl Default for InFlight {
    fn default() -> Self {
        Self::new(PER_ENDPOINT)
    }
}

struct Lane {
    sending: Arc<Semaphore>,
    waiting: usize,
    /// When each open request started, by turn.
    open: HashMap<u64, Instant>,
    next_turn: u64,
    last_took: Duration,
}

impl Lane {
    fn new(per_endpoint: usize) -> Self {
        Self {
            sending: Arc::new(Semaphore::new(per_endpoint)),
            waiting: 0,
            open: HashMap::new(),
            next_turn: 0,
            last_took: Duration::ZERO,
        }
    }

    fn is_slow(&self, now: Instant) -> bool {
        self.last_took >= SLOW_AFTER || self.open.values().any(|started| now - *started >= SLOW_AFTER)
    }

    /// When the endpoint turns slow if nothing changes: as its oldest open request reaches
    /// [`SLOW_AFTER`] (later than `now`, the endpoint not slow yet).
    fn slow_at(&self, now: Instant) -> Instant {
        self.open.values().min().map_or(now + SLOW_AFTER, |oldest| *oldest + SLOW_AFTER).max(now)
    }

    fn is_idle(&self) -> bool {
        self.waiting == 0 && self.open.is_empty()
    }

    fn start(&mut self, permit: OwnedSemaphorePermit, endpoint: &EndpointId, lanes: &Lanes) -> Turn {
        let id = self.next_turn;
        self.next_turn += 1;
        self.open.insert(id, Instant::now());
        Turn { _permit: permit, id, endpoint: endpoint.clone(), lanes: lanes.clone(), sent: true }
    }
}

/// One open request to an endpoint; the next delivery may go when it drops.
pub struct Turn {
    _permit: OwnedSemaphorePermit,
    id: u64,
    endpoint: EndpointId,
    lanes: Lanes,
    /// Whether a request went out in this turn, so that its time says how fast the endpoint is.
    sent: bool,
}

impl Turn {
    /// Gives the turn back without having sent anything (e.g. over the rate limit): the
    /// endpoint's speed stays what its last answer said.
    pub fn unused(mut self) {
        self.sent = false;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut lanes = self.lanes.lock().expect("in-flight lanes");
        let Some(lane) = lanes.get_mut(&self.endpoint) else { return };
        if let Some(started) = lane.open.remove(&self.id)
            && self.sent
        {
            lane.last_took = started.elapsed();
        }
        if lane.is_idle() {
            lanes.remove(&self.endpoint);
        }
    }
}

impl InFlight {
    /// At most `per_endpoint` requests open per endpoint (1 to [`MAX_PER_ENDPOINT`]).
    pub fn new(per_endpoint: usize) -> Self {
        Self { lanes: Lanes::default(), per_endpoint: per_endpoint.clamp(1, MAX_PER_ENDPOINT) }
    }

    /// A turn to send to `endpoint`: at once if fewer than `per_endpoint` requests are open,
    /// else after waiting up to [`SLOW_AFTER`] while the endpoint is not slow; `None` means
    /// defer the delivery.
    pub async fn turn(&self, endpoint: &EndpointId) -> Option<Turn> {
        let (sending, mut deadline) = {
            let mut lanes = self.lanes.lock().expect("in-flight lanes");
            let lane = lanes.entry(endpoint.clone()).or_insert_with(|| Lane::new(self.per_endpoint));
            if let Ok(permit) = lane.sending.clone().try_acquire_owned() {
                return Some(lane.start(permit, endpoint, &self.lanes));
            }
            let now = Instant::now();
            if lane.is_slow(now) {
                return None;
            }
            lane.waiting += 1;
            (lane.sending.clone(), lane.slow_at(now))
        };
        // One place in line, kept across the checks below (the semaphore is first come,
        // first served).
        let acquire = sending.acquire_owned();
        tokio::pin!(acquire);
        loop {
            let waited = tokio::time::timeout_at(deadline, acquire.as_mut()).await;
            let mut lanes = self.lanes.lock().expect("in-flight lanes");
            // A lane with a waiter is never removed, so this one is still there.
            let lane = lanes.get_mut(endpoint).expect("a lane with a waiter stays");
            let now = Instant::now();
            match waited {
                Ok(Ok(permit)) => {
                    lane.waiting -= 1;
                    return Some(lane.start(permit, endpoint, &self.lanes));
                }
                // A long line at an endpoint that answers quickly is the sender's own backlog,
                // not a slow receiver: it keeps its place.
                Err(_) if !lane.is_slow(now) => deadline = lane.slow_at(now),
                _ => {
                    lane.waiting -= 1;
                    if lane.is_idle() {
                        lanes.remove(endpoint);
                    }
                    return None;
                }
            }
        }
    }

    /// True when a turn at `endpoint` would be refused now: every turn taken and the endpoint
    /// slow. Cheap, so a delivery bound to be deferred is deferred before anything is read.
    pub fn refuses(&self, endpoint: &EndpointId) -> bool {
        let lanes = self.lanes.lock().expect("in-flight lanes");
        lanes.get(endpoint).is_some_and(|lane| lane.sending.available_permits() == 0 && lane.is_slow(Instant::now()))
    }

    /// Endpoints with requests open or deliveries waiting.
    #[cfg(test)]
    fn endpoints(&self) -> usize {
        self.lanes.lock().expect("in-flight lanes").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints() -> (EndpointId, EndpointId) {
        let now = webhooks::time::Timestamp::now();
        (EndpointId::generate(now), EndpointId::generate(now))
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_endpoint_queues_past_its_share() {
        let in_flight = InFlight::default();
        let (fast, _) = endpoints();
        let mut open: Vec<Turn> = Vec::new();
        for _ in 0..PER_ENDPOINT {
            open.push(in_flight.turn(&fast).await.expect("a free turn"));
        }
        let line: Vec<_> = (0..3 * PER_ENDPOINT)
            .map(|_| {
                let (in_flight, fast) = (in_flight.clone(), fast.clone());
                tokio::spawn(async move { in_flight.turn(&fast).await.map(drop).is_some() })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Answers come back quickly, so the whole line is served.
        drop(open);
        for waiter in line {
            assert!(waiter.await.unwrap(), "every delivery in line got a turn");
        }
        assert_eq!(in_flight.endpoints(), 0, "idle endpoints leave the map");
    }

    #[tokio::test(start_paused = true)]
    async fn a_line_longer_than_the_slow_mark_at_a_fast_endpoint_is_not_deferred() {
        let in_flight = InFlight::default();
        let (fast, _) = endpoints();
        // 25 rounds of 16 requests of 100 ms each: the last in line waits 2.4 s, more than
        // twice SLOW_AFTER, for an endpoint that answers every request in a tenth of it.
        let line: Vec<_> = (0..25 * PER_ENDPOINT)
            .map(|_| {
                let (in_flight, fast) = (in_flight.clone(), fast.clone());
                tokio::spawn(async move {
                    let turn = in_flight.turn(&fast).await?;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    drop(turn);
                    Some(Instant::now())
                })
            })
            .collect();
        let started = Instant::now();
        let mut last = started;
        for waiter in line {
            last = last.max(waiter.await.unwrap().expect("no delivery in line deferred"));
        }
        assert_eq!(last - started, Duration::from_millis(2500), "first come, first served, 16 at a time");
        assert_eq!(in_flight.endpoints(), 0, "idle endpoints leave the map");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_endpoint_gets_its_share_and_no_line() {
        let in_flight = InFlight::default();
        let (slow, other) = endpoints();
        let open: Vec<Turn> = futures_util::future::join_all((0..PER_ENDPOINT).map(|_| in_flight.turn(&slow)))
            .await
            .into_iter()
            .map(|turn| turn.expect("a free turn"))
            .collect();
        // In line while the endpoint is not known to be slow; the wait runs out.
        let started = Instant::now();
        assert!(in_flight.turn(&slow).await.is_none());
        assert_eq!(started.elapsed(), SLOW_AFTER, "waited for a turn, then gave up");
        // Now its requests have been open for a second: turned away at once.
        assert!(in_flight.refuses(&slow) && !in_flight.refuses(&other));
        let started = Instant::now();
        assert!(in_flight.turn(&slow).await.is_none());
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert!(in_flight.turn(&other).await.is_some(), "another endpoint is not held up");

        drop(open);
        let open = in_flight.turn(&slow).await.expect("a free turn");
        drop(open);
        assert_eq!(in_flight.endpoints(), 0, "idle endpoints leave the map");
    }

    #[tokio::test(start_paused = true)]
    async fn a_turn_given_back_unused_does_not_make_a_slow_endpoint_look_fast() {
        let in_flight = InFlight::default();
        let (slow, _) = endpoints();
        let first = in_flight.turn(&slow).await.expect("a free turn");
        tokio::time::sleep(2 * SLOW_AFTER).await;
        let mut open: Vec<Turn> = Vec::new();
        for _ in 1..PER_ENDPOINT - 1 {
            open.push(in_flight.turn(&slow).await.expect("a free turn"));
        }
        // Its last answer took 2 s; every request open now is fresh.
        drop(first);
        in_flight.turn(&slow).await.expect("a free turn").unused();
        open.push(in_flight.turn(&slow).await.expect("a free turn"));
        open.push(in_flight.turn(&slow).await.expect("a free turn"));
        assert!(in_flight.refuses(&slow), "still slow: the unused turn measured nothing");
    }
}
