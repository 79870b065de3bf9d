//! The sender: signs and POSTs one pending delivery, records the attempt, and schedules the
//! retry through the queue's visibility timeout (the message is the retry timer).

pub mod auto_disable;
mod batch_reads;
mod caches;
pub mod in_flight;
mod operator_alerts;
mod setup;
pub mod slow_lane;
mod stats;

use std::sync::Arc;
use std::time::Duration;

use crate::attempt::{Attempted, deliver_once, failure_summary};
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream;
use tracing::Instrument;
use webhooks::deliveries::history::History;
use webhooks::deliveries::local_rate_counter::LocalRateCounter;
use webhooks::deliveries::outbound::HttpSender;
use webhooks::deliveries::rate_limit::RateCounter;
use webhooks::deliveries::rate_limit::rate_delay;
use webhooks::deliveries::receiver_answer::{Answer, retry_delay};
use webhooks::deliveries::retry::{DeliveryPolicy, deferral_delay, random_jitter};
use webhooks::deliveries::stats::{DeliveryCounts, StatsStore};
use webhooks::deliveries::store::DeliveryStore;
use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::store::EventStore;
use webhooks::ports::{Clock, ErrorChain, StoreError};
use webhooks::queues::messages::{DeliveriesMessage, DeliveryMessage};
use webhooks::queues::{Queue, QueueError, ReceivedMessage};
use webhooks::traces::{Span, SpanKind, TraceContext, Tracer};

use self::auto_disable::count_answer;
use self::batch_reads::BatchReads;
use self::caches::{KeyCache, PayloadCache};
use self::in_flight::InFlight;
use self::operator_alerts::OperatorAlerts;
use self::slow_lane::{SLOW_AFTER, SlowLane};
use self::stats::Tally;
use crate::metrics::Metrics;
use crate::services::recover::run_job_page;

/// An attempt's span: OpenTelemetry's HTTP client attributes (the URL without its query,
/// which may carry a token) and the delivery's ids.
fn describe_attempt(
    span: &mut Span,
    pending: &DeliveryMessage<'_>,
    endpoint: &Endpoint,
    attempt: &Attempt,
    number: u32,
) {
    span.set("webhooks.delivery_id", pending.id.to_string());
    span.set("webhooks.endpoint_id", pending.endpoint_id.to_string());
    span.set("webhooks.event_id", pending.event_id.as_str());
    span.set("webhooks.attempt", i64::from(number));
    span.set("http.request.method", "POST");
    span.set("url.full", endpoint.url.split(['?', '#']).next().unwrap_or_default());
    if let Some(status) = attempt.http_status {
        span.set("http.response.status_code", status);
    }
    if !attempt.succeeded() {
        span.fail(failure_summary(attempt));
    }
}

/// Deliveries sent at once within one batch.
const BATCH_CONCURRENCY: usize = 10;

/// One span per received message, so that every line logged while handling it says which
/// delivery it belongs to: the ids are filled in once the message is read (never a secret).
fn delivery_span(message: &ReceivedMessage) -> tracing::Span {
    tracing::info_span!(
        "delivery",
        message_id = %message.message_id,
        tenant = tracing::field::Empty,
        event_id = tracing::field::Empty,
        delivery_id = tracing::field::Empty,
        endpoint_id = tracing::field::Empty,
    )
}

/// The stores the sender uses: it reads endpoints and counts their failures, reads event
/// payloads, writes deliveries and adds up their counts; it never touches API keys.
pub trait SenderStore: EndpointStore + EventStore + DeliveryStore + StatsStore {}

impl<T: EndpointStore + EventStore + DeliveryStore + StatsStore> SenderStore for T {}

/// What the sender works with; built once per process.
pub struct Sender<S, Q, H, C, R = LocalRateCounter> {
    pub store: S,
    /// The deliveries queue, whose visibility timeout schedules retries.
    pub deliveries: Q,
    pub http: H,
    pub clock: C,
    pub policy: DeliveryPolicy,
    /// Counts deliveries per endpoint and second for `rate_limit`: in memory unless given one
    /// that every sender shares ([`Sender::with_rate_counter`]).
    pub rates: R,
    keys: KeyCache,
    payloads: PayloadCache,
    in_flight: InFlight,
    /// On Lambda's main lane: where deliveries to slow endpoints go (see [`slow_lane`]).
    slow_lane: Option<SlowLane<Q>>,
    /// The deliveries DLQ, where the sender parks with the reason what it cannot process
    /// ([`Sender::with_dead_letters`]); without it, the queue's redrive parks them, reasonless.
    dead_letters: Option<Q>,
    /// Delivery counts not yet written ([`stats`]).
    stats: Tally,
    /// Whether the caller flushes `stats` ([`Sender::flushing_stats_by_caller`]), not each batch.
    stats_by_caller: bool,
    /// This process's counters ([`Sender::with_metrics`]).
    metrics: Arc<Metrics>,
    /// What the operator hears of ([`Sender::with_operator_alerts`]); nothing without it.
    alerts: Option<OperatorAlerts<Q>>,
    /// An "attempt" span per request, when traces are on ([`Sender::with_tracer`]).
    tracer: Tracer,
    /// Which deliveries are written ([`Sender::with_history`]).
    history: History,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    Delivered,
    /// Failed; retried when the message becomes visible again.
    RetryScheduled,
    /// Failed for the last time: a `failed` delivery in the history (retryable there); the
    /// message is done. The DLQ is for what the pipeline could not handle, not for this.
    GaveUp,
    /// Nothing to send: already delivered, endpoint deleted or disabled.
    Skipped,
    /// Not attempted: its endpoint was slow with as many requests open as it may have, or at
    /// its `rate_limit` for this second. A copy of the message was sent for later (with the
    /// attempts made so far); this one is done.
    Deferred,
    /// Not attempted, or its request dropped unanswered after [`SLOW_AFTER`]: moved to the
    /// slow lane with the attempts made so far (none recorded for this receive).
    MovedToSlowLane,
    /// Not a delivery: a page of a recover job, done (see [`crate::services::recover`]).
    Recovered,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("malformed delivery message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Service(#[from] crate::services::ServiceError),
}

impl<S: SenderStore, Q: Queue, H: HttpSender, C: Clock, R: RateCounter> Sender<S, Q, H, C, R> {
    /// Writes the delivery counts added up so far: one write per endpoint.
    pub async fn flush_stats(&self) {
        self.stats.flush(&self.store, self.clock.now()).await;
    }

    /// One line per attempt, whatever its outcome: what an operator watches (`serve` prints
    /// it for people or as JSON; Lambda's logs are JSON). Ids, never a secret.
    fn log_attempt(&self, pending: &DeliveryMessage<'_>, attempt: &Attempt, number: u32, delivery: &Delivery) {
        let outcome = match delivery.status {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Pending => "retrying",
            DeliveryStatus::Failed => "failed",
        };
        tracing::info!(
            endpoint_id = %pending.endpoint_id,
            event_type = %pending.event_type,
            delivery_id = %pending.id,
            outcome,
            http_status = attempt.http_status.map(u64::from),
            latency_ms = attempt.duration_ms,
            attempt = number,
            max_attempts = self.policy.max_attempts(),
            next_retry = delivery.next_retry_at.map(|at| at.to_rfc3339()),
            error = attempt.error.as_deref(),
            "attempt {number}/{}: {outcome}",
            self.policy.max_attempts(),
        );
    }

    /// Saves the delivery (with its attempt, if one was made) and counts it.
    async fn save(&self, delivery: &Delivery, attempt: Option<&Attempt>) -> Result<(), StoreError> {
        self.store.save_delivery(delivery, attempt).await?;
        self.count(delivery, attempt);
        Ok(())
    }

    /// Counts the delivery in its endpoint's stats and the metrics.
    fn count(&self, delivery: &Delivery, attempt: Option<&Attempt>) {
        self.stats.count(&delivery.tenant, &delivery.endpoint_id, DeliveryCounts::of(delivery.status));
        self.metrics.delivery(delivery, attempt);
    }

    /// A delivery not sent now: moved to the slow lane if there is one, else deferred.
    async fn not_now(
        &self,
        pending: &DeliveryMessage<'_>,
        message: &ReceivedMessage,
    ) -> Result<SendOutcome, SendError> {
        match &self.slow_lane {
            Some(lane) => self.move_to_slow_lane(lane, pending, message).await,
            None => self.defer(pending, message).await,
        }
    }

    /// Sends the delivery to the slow lane, carrying the attempts made so far.
    async fn move_to_slow_lane(
        &self,
        lane: &SlowLane<Q>,
        pending: &DeliveryMessage<'_>,
        message: &ReceivedMessage,
    ) -> Result<SendOutcome, SendError> {
        lane.queue.send_batch(vec![pending.moved(message.receive_count)]).await?;
        tracing::debug!(delivery_id = %pending.id, endpoint_id = %pending.endpoint_id, "moved to the slow lane");
        Ok(SendOutcome::MovedToSlowLane)
    }

    /// Sends the delivery later, as a new message that carries the attempts made so far: a
    /// deferral is not an attempt, and does not use up the message's receives.
    async fn defer(&self, pending: &DeliveryMessage<'_>, message: &ReceivedMessage) -> Result<SendOutcome, SendError> {
        let delay = deferral_delay(pending.deferrals.saturating_add(1), random_jitter());
        self.defer_for(pending, message, delay).await
    }

    async fn defer_for(
        &self,
        pending: &DeliveryMessage<'_>,
        message: &ReceivedMessage,
        delay: Duration,
    ) -> Result<SendOutcome, SendError> {
        self.deliveries.send_delayed(pending.deferred(message.receive_count), delay).await?;
        tracing::debug!(delivery_id = %pending.id, endpoint_id = %pending.endpoint_id, ?delay, "deferred");
        Ok(SendOutcome::Deferred)
    }

    /// The event's payload: from the message if an older one carries it, else from the store
    /// (once per event while cached). `None` if the event is no longer retained.
    async fn payload(&self, pending: &DeliveryMessage<'_>, batch: &BatchReads) -> Result<Option<Bytes>, StoreError> {
        if let Some(payload) = pending.payload {
            return Ok(Some(Bytes::copy_from_slice(payload.get().as_bytes())));
        }
        if let Some(payload) = self.payloads.get(&pending.tenant, &pending.event_id) {
            return Ok(Some(payload));
        }
        let key = (pending.tenant.clone(), pending.event_id.clone());
        batch
            .payloads
            .get_or_read(key, || async {
                let Some(payload) = self.store.event_payload(&pending.tenant, &pending.event_id).await? else {
                    return Ok(None);
                };
                let payload = Bytes::from(payload.get().to_owned());
                self.payloads.put(&pending.tenant, &pending.event_id, payload.clone());
                Ok(Some(payload))
            })
            .await
    }

    /// Whether a delivered delivery is to be sent again: a manual resend asked for it, and no
    /// attempt was made since (else this is a redelivered message of a resend already made).
    async fn resend_due(&self, pending: &DeliveryMessage<'_>) -> Result<bool, SendError> {
        let Some(after) = pending.resend_after else { return Ok(false) };
        let stored = match self.store.get_delivery(&pending.tenant, &pending.endpoint_id, &pending.id).await {
            Ok(detail) => detail.delivery.attempts,
            Err(StoreError::NotFound) => return Ok(false),
            Err(error) => return Err(error.into()),
        };
        Ok(stored == after)
    }

    pub async fn handle_message(&self, message: &ReceivedMessage) -> Result<SendOutcome, SendError> {
        self.handle_in_batch(message, &BatchReads::default()).await
    }

    /// Handles one message of a batch whose deliveries share `batch`'s reads.
    async fn handle_in_batch(&self, message: &ReceivedMessage, batch: &BatchReads) -> Result<SendOutcome, SendError> {
        let pending = match DeliveriesMessage::parse(&message.body) {
            Ok(DeliveriesMessage::Deliver(pending)) => pending,
            Ok(DeliveriesMessage::Recover(job)) => {
                run_job_page(&self.store, &self.deliveries, &self.clock, &job).await?;
                return Ok(SendOutcome::Recovered);
            }
            Err(error) => return Err(SendError::Malformed(error.to_string())),
        };
        let span = tracing::Span::current();
        span.record("tenant", pending.tenant.as_str());
        span.record("event_id", pending.event_id.as_str());
        span.record("delivery_id", tracing::field::display(&pending.id));
        span.record("endpoint_id", tracing::field::display(&pending.endpoint_id));
        if let Some(lane) = &self.slow_lane
            && lane.is_slow(&pending.endpoint_id)
        {
            return self.move_to_slow_lane(lane, &pending, message).await;
        }
        if self.in_flight.refuses(&pending.endpoint_id) {
            return self.not_now(&pending, message).await;
        }
        let attempt_number = pending.attempt_number(message.receive_count);
        let read_endpoint = || self.store.get_endpoint(&pending.tenant, &pending.endpoint_id);
        let key = (pending.tenant.clone(), pending.endpoint_id.clone());
        let endpoint = match batch.endpoints.get_or_read(key, read_endpoint).await {
            Ok(endpoint) => endpoint,
            Err(StoreError::NotFound) => {
                self.metrics.skipped(&pending.tenant);
                return Ok(SendOutcome::Skipped);
            }
            Err(error) => return Err(error.into()),
        };
        // A delivery's first attempt (not a manual resend) reads no status: only a crash
        // between its POST and the end of its handling can have delivered it already, and
        // at-least-once allows that duplicate. It saves a read per delivery.
        let first_attempt = attempt_number == 1 && pending.resend_after.is_none();
        if !first_attempt
            && self.store.delivery_status(&pending.tenant, &pending.endpoint_id, &pending.id).await?
                == Some(DeliveryStatus::Delivered)
            && !self.resend_due(&pending).await?
        {
            self.metrics.skipped(&pending.tenant);
            return Ok(SendOutcome::Skipped);
        }
        let mut delivery = pending.pending().record();
        if !endpoint.enabled {
            // Re-enabling does not replay; the history shows why, and a manual retry can.
            delivery.status = DeliveryStatus::Failed;
            delivery.last_error = Some(endpoint.disabled_summary());
            self.save(&delivery, None).await?;
            return Ok(SendOutcome::Skipped);
        }

        let Some(payload) = self.payload(&pending, batch).await? else {
            delivery.status = DeliveryStatus::Failed;
            delivery.last_error = Some("not sent: the event is no longer retained".to_owned());
            self.save(&delivery, None).await?;
            return Ok(SendOutcome::Skipped);
        };
        // A turn covers the request only: what the receiver's speed decides.
        let Some(turn) = self.in_flight.turn(&endpoint.id).await else {
            return self.not_now(&pending, message).await;
        };
        if let Some(lane) = &self.slow_lane
            && lane.is_slow(&endpoint.id)
        {
            // Found slow while this one waited for its turn.
            turn.unused();
            return self.move_to_slow_lane(lane, &pending, message).await;
        }
        let mut now = self.clock.now();
        if let Some(limit) = endpoint.rate_limit {
            let second = now.unix_seconds();
            let counted = self.rates.count(&endpoint.id, second).await?;
            // Sent only within the second it was counted in (a slow count can end in the
            // next), so that no second's arrivals pass the limit.
            now = self.clock.now();
            let late = now.unix_seconds() != second;
            if let Some(delay) = rate_delay(counted, limit).or(late.then_some(Duration::ZERO)) {
                turn.unused();
                return self.defer_for(&pending, message, delay).await;
            }
        }
        let keys = self.keys.keys_for(&endpoint, now);
        let parent = pending.traceparent.as_deref().and_then(TraceContext::parse);
        let mut span = self.tracer.start("attempt", SpanKind::Client, parent);
        let attempting = deliver_once(&self.http, &endpoint, &keys, delivery, payload, now, self.policy.timeout);
        let Attempted { mut delivery, attempt, answer } = match &self.slow_lane {
            None => attempting.await,
            Some(lane) => match tokio::time::timeout(SLOW_AFTER, attempting).await {
                Ok(answered) => answered,
                Err(_) => {
                    // Remembered before the turn is given back, so that no delivery waiting
                    // for it sends. Dropping the future closes the connection.
                    lane.remember(&endpoint.id);
                    drop(turn);
                    return self.move_to_slow_lane(lane, &pending, message).await;
                }
            },
        };
        drop(turn);
        if let Some(span) = &mut span {
            describe_attempt(span, &pending, &endpoint, &attempt, attempt_number);
        }
        self.tracer.end(span);

        if answer == Answer::Delivered {
            if self.history.keeps_delivered(first_attempt) {
                self.save(&delivery, Some(&attempt)).await?;
            } else {
                self.count(&delivery, Some(&attempt));
            }
            self.log_attempt(&pending, &attempt, attempt_number, &delivery);
            count_answer(&self.store, &endpoint, answer, &self.policy).await?;
            if let Some(alerts) = &self.alerts {
                alerts.delivered(&self.store, &endpoint, &delivery.id, now).await;
            }
            return Ok(SendOutcome::Delivered);
        }

        let counted = count_answer(&self.store, &endpoint, answer, &self.policy).await?;
        let disabled_now = counted.disabled_now;
        if disabled_now {
            self.metrics.endpoint_auto_disabled(&endpoint.tenant);
        }
        if let Some(alerts) = &self.alerts {
            alerts.failed(&self.store, &endpoint, &delivery.id, answer, counted, now).await;
        }
        match retry_delay(&self.policy, attempt_number, random_jitter(), answer) {
            Some(delay) if !disabled_now && answer != Answer::Gone => {
                delivery.status = DeliveryStatus::Pending;
                delivery.next_retry_at = Some(now.plus(delay));
                self.save(&delivery, Some(&attempt)).await?;
                self.log_attempt(&pending, &attempt, attempt_number, &delivery);
                self.deliveries.change_visibility(&message.receipt, delay).await?;
                Ok(SendOutcome::RetryScheduled)
            }
            Some(_) => {
                // Disabled by this answer: stop retrying; the history keeps the delivery.
                self.save(&delivery, Some(&attempt)).await?;
                self.log_attempt(&pending, &attempt, attempt_number, &delivery);
                Ok(SendOutcome::Skipped)
            }
            None => {
                self.save(&delivery, Some(&attempt)).await?;
                self.log_attempt(&pending, &attempt, attempt_number, &delivery);
                tracing::warn!(
                    delivery_id = %delivery.id,
                    endpoint_id = %endpoint.id,
                    attempts = attempt_number,
                    "delivery failed for good after its last retry"
                );
                if let Some(alerts) = &self.alerts {
                    alerts.exhausted(&self.store, &endpoint, &delivery.id, now).await;
                }
                Ok(SendOutcome::GaveUp)
            }
        }
    }

    /// A message that could not be processed: parked with the reason if it never will be, or
    /// if this was its last receive; else left on the queue (its id answered) to try again.
    async fn not_processed(&self, message: ReceivedMessage, error: SendError) -> Option<String> {
        let last_receive = message.receive_count >= self.policy.max_attempts();
        let reason = match &error {
            SendError::Malformed(_) => error.to_string(),
            _ if last_receive => {
                format!("not processed in {} receives; last error: {}", message.receive_count, ErrorChain(&error))
            }
            _ => {
                tracing::warn!(message_id = %message.message_id, error = %ErrorChain(&error), "delivery not processed; retried later");
                return Some(message.message_id);
            }
        };
        let Some(dead_letters) = &self.dead_letters else {
            tracing::warn!(message_id = %message.message_id, reason, "delivery not processed; the redrive parks it");
            return Some(message.message_id);
        };
        match dead_letters.park(message.body, &reason).await {
            Ok(()) => {
                tracing::warn!(message_id = %message.message_id, reason, "delivery message parked in the DLQ");
                None
            }
            Err(park_error) => {
                tracing::warn!(message_id = %message.message_id, reason, park_error = %ErrorChain(&park_error), "not parked; retried later");
                Some(message.message_id)
            }
        }
    }

    /// Handles a batch concurrently; answers the ids of the messages that must stay on the
    /// queue: retries, and errors short of the last receive (see [`Sender::with_dead_letters`]).
    pub async fn handle_batch(&self, messages: Vec<ReceivedMessage>) -> Vec<String> {
        let batch = &BatchReads::default();
        let unfinished = stream::iter(messages)
            .map(|message| {
                let span = delivery_span(&message);
                async move {
                    match self.handle_in_batch(&message, batch).await {
                        Ok(
                            SendOutcome::Delivered
                            | SendOutcome::Skipped
                            | SendOutcome::GaveUp
                            | SendOutcome::Deferred
                            | SendOutcome::MovedToSlowLane
                            | SendOutcome::Recovered,
                        ) => None,
                        Ok(SendOutcome::RetryScheduled) => Some(message.message_id),
                        Err(error) => self.not_processed(message, error).await,
                    }
                }
                .instrument(span)
            })
            .buffer_unordered(BATCH_CONCURRENCY)
            .filter_map(std::future::ready)
            .collect()
            .await;
        if !self.stats_by_caller {
            self.flush_stats().await;
        }
        unfinished
    }
}
