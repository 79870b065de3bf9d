//! Building a [`Sender`]: the defaults, and what each deployment adds (a shared rate
//! counter, the DLQ, the slow lane, the metrics, the operator's alerts, the history kept).

use std::sync::Arc;

use webhooks::deliveries::history::History;
use webhooks::deliveries::outbound::HttpSender;
use webhooks::deliveries::rate_limit::RateCounter;
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::ports::Clock;
use webhooks::queues::Queue;
use webhooks::traces::Tracer;

use super::in_flight::InFlight;
use super::operator_alerts::OperatorAlerts;
use super::slow_lane::{MAIN_LANE_PER_ENDPOINT, SlowLane};
use super::{Sender, SenderStore};
use crate::metrics::Metrics;

impl<S: SenderStore, Q: Queue, H: HttpSender, C: Clock> Sender<S, Q, H, C> {
    /// A sender whose rate limits count in this process: exact when it is the only one.
    pub fn new(store: S, deliveries: Q, http: H, clock: C, policy: DeliveryPolicy) -> Self {
        let (keys, payloads, in_flight, rates, stats, metrics) = Default::default();
        Self {
            store,
            deliveries,
            http,
            clock,
            policy,
            rates,
            keys,
            payloads,
            in_flight,
            slow_lane: None,
            dead_letters: None,
            stats,
            stats_by_caller: false,
            metrics,
            alerts: None,
            tracer: Tracer::off(),
            history: History::All,
        }
    }
}

impl<S: SenderStore, Q: Queue, H: HttpSender, C: Clock, R: RateCounter> Sender<S, Q, H, C, R> {
    /// The same sender with at most `per_endpoint` requests open to one endpoint (see
    /// [`in_flight`]).
    pub fn with_endpoint_concurrency(mut self, per_endpoint: usize) -> Self {
        self.in_flight = InFlight::new(per_endpoint);
        self
    }

    /// The same sender counting rate limits with `rates`, e.g. one shared by every Lambda
    /// environment.
    pub fn with_rate_counter<R2: RateCounter>(self, rates: R2) -> Sender<S, Q, H, C, R2> {
        let Sender {
            store,
            deliveries,
            http,
            clock,
            policy,
            rates: _,
            keys,
            payloads,
            in_flight,
            slow_lane,
            dead_letters,
            stats,
            stats_by_caller,
            metrics,
            alerts,
            tracer,
            history,
        } = self;
        Sender {
            store,
            deliveries,
            http,
            clock,
            policy,
            rates,
            keys,
            payloads,
            in_flight,
            slow_lane,
            dead_letters,
            stats,
            stats_by_caller,
            metrics,
            alerts,
            tracer,
            history,
        }
    }

    /// The same sender keeping `history`: with [`History::Failures`], a delivery that
    /// succeeds at its first attempt is counted and logged, and not written.
    pub fn with_history(mut self, history: History) -> Self {
        self.history = history;
        self
    }

    /// The same sender recording an "attempt" span per request with `tracer`, the child of
    /// the fan-out its message names.
    pub fn with_tracer(mut self, tracer: Tracer) -> Self {
        self.tracer = tracer;
        self
    }

    /// The same sender telling the operator's webhooks, through `events` (the events queue),
    /// of endpoints failing `failing_after` times in a row, disabled, recovered, and of
    /// deliveries whose retries are used up.
    pub fn with_operator_alerts(mut self, events: Q, failing_after: u32) -> Self {
        self.alerts = Some(OperatorAlerts { events, failing_after });
        self
    }

    /// The same sender counting into `metrics`, the process's (shared with its API).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The counters this sender adds to.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The same sender parking in `dead_letters`, with the reason, each message it cannot
    /// process: a malformed one at once, another once its last receive (the queue's max
    /// receive count, [`DeliveryPolicy::max_attempts`]) failed too.
    pub fn with_dead_letters(mut self, dead_letters: Q) -> Self {
        self.dead_letters = Some(dead_letters);
        self
    }

    /// The same sender leaving the delivery counts in memory until [`Sender::flush_stats`] is
    /// called (e.g. every second), instead of writing them after each batch: for a process
    /// that lives on and handles its batches one message at a time (`serve`).
    pub fn flushing_stats_by_caller(mut self) -> Self {
        self.stats_by_caller = true;
        self
    }

    /// The same sender as Lambda's main lane: a request gets [`SLOW_AFTER`], and deliveries
    /// to slower endpoints go to `slow_lane`, whose own sender gives them the full timeout.
    pub fn with_slow_lane(mut self, slow_lane: Q) -> Self {
        self.slow_lane = Some(SlowLane::new(slow_lane));
        self.in_flight = InFlight::new(MAIN_LANE_PER_ENDPOINT);
        self
    }
}
