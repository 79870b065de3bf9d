//! The dispatcher: fans each event out into one pending delivery per matching endpoint.
//!
//! Generic over the ports, so the same code runs under Lambda (SQS event source) and in
//! `webhooks serve` (the in-process event source).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::services::event_types::TypeResolver;
use futures_util::StreamExt;
use futures_util::stream;
use tracing::Instrument;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::deliveries::{Delivery, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::filters::FilteredEvent;
use webhooks::endpoints::matching::endpoint_accepts;
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::Event;
use webhooks::events::intake::payload_entity_id;
use webhooks::events::intake::{IncomingEvent, MAX_PAYLOAD_BYTES, check_event};
use webhooks::events::store::{EventRecord, EventStore, EventTypeStore};
use webhooks::events::types::check_typed_payload;
use webhooks::ids::is_valid_tenant;
use webhooks::ids::{DeliveryId, GeneratedEventId};
use webhooks::ports::{BackendError, ErrorChain, StoreError};
use webhooks::queues::dead_letters::EVENT_MAX_RECEIVES;
use webhooks::queues::messages::{DeliveryMessage, EventEnvelope, PendingDelivery};
use webhooks::queues::{Queue, QueueError, ReceivedMessage};
use webhooks::traces::{Span, SpanKind, TraceContext, Tracer};
use webhooks::validation::FieldError;

/// Events handled at once within one batch.
const BATCH_CONCURRENCY: usize = 10;
/// Deliveries held before they are sent: ten SQS requests' worth.
pub const SEND_AT: usize = 100;

/// The longest `dispatched_from` (SQS message ids are 36 characters; SQLite's are numbers).
const MAX_MESSAGE_ID_LEN: usize = 128;

/// Subscription lookups kept at most; the cache is cleared when it grows past this.
const CACHE_LIMIT: usize = 10_000;

/// The stores the dispatcher uses: it checks events' types, records events, reads
/// subscriptions, and leaves a trace on disabled endpoints' histories; it never touches API
/// keys.
pub trait DispatcherStore: EndpointStore + EventStore + DeliveryStore + EventTypeStore {}

impl<T: EndpointStore + EventStore + DeliveryStore + EventTypeStore> DispatcherStore for T {}

/// What the dispatcher works with; built once per process.
pub struct Dispatcher<S, Q> {
    pub store: S,
    /// Where pending deliveries go.
    pub deliveries: Q,
    /// The events DLQ: a message that can never be an event goes there at once, unchanged,
    /// with the reason; so does one whose last receive failed too, with the error.
    pub dead_letters: Q,
    subscriptions: SubscriptionCache,
    /// Whether events of a type the tenant does not have are dispatched (else parked).
    accept_unknown_types: bool,
    /// A "fan-out" span per event, when traces are on ([`Dispatcher::with_tracer`]).
    tracer: Tracer,
}

/// The endpoints subscribed to (tenant, event type), kept so that a burst of events costs one
/// read of the tenant's subscriptions version per batch instead of a lookup per event. An
/// entry is used only while that version is unchanged, so a new or changed endpoint is seen
/// by the next batch; `ttl` bounds an entry's life besides, and zero turns the cache off.
struct SubscriptionCache {
    ttl: Duration,
    /// (tenant, event type) -> when it was looked up, and what was found.
    entries: Mutex<HashMap<TenantAndType, CachedLookup>>,
}

/// What one batch looked up, so that events of the same tenant and type share one lookup
/// even while they are handled at once.
#[derive(Default)]
struct BatchLookups {
    versions: Mutex<HashMap<String, Shared<u64>>>,
    subscriptions: Mutex<HashMap<TenantAndType, Shared<Subscribed>>>,
}

/// A lookup that the first event to need it makes, and the others wait for.
type Shared<T> = Arc<OnceCell<T>>;
type TenantAndType = (String, String);

/// The endpoints subscribed to one (tenant, event type), shared by the events that need them.
type Subscribed = Arc<Vec<Endpoint>>;

impl BatchLookups {
    fn version(&self, tenant: &str) -> Shared<u64> {
        self.versions.lock().expect("batch lookups").entry(tenant.to_owned()).or_default().clone()
    }

    fn subscriptions(&self, tenant: &str, event_type: &str) -> Shared<Subscribed> {
        let mut subscriptions = self.subscriptions.lock().expect("batch lookups");
        subscriptions.entry((tenant.to_owned(), event_type.to_owned())).or_default().clone()
    }
}

struct CachedLookup {
    fetched: Instant,
    version: u64,
    endpoints: Arc<Vec<Endpoint>>,
}

impl SubscriptionCache {
    fn get(&self, tenant: &str, event_type: &str, version: u64) -> Option<Arc<Vec<Endpoint>>> {
        let entries = self.entries.lock().expect("subscription cache");
        let cached = entries.get(&(tenant.to_owned(), event_type.to_owned()))?;
        (cached.version == version && cached.fetched.elapsed() < self.ttl).then(|| cached.endpoints.clone())
    }

    fn put(&self, tenant: &str, event_type: &str, version: u64, endpoints: Arc<Vec<Endpoint>>) {
        let mut entries = self.entries.lock().expect("subscription cache");
        if entries.len() >= CACHE_LIMIT {
            entries.clear();
        }
        let lookup = CachedLookup { fetched: Instant::now(), version, endpoints };
        entries.insert((tenant.to_owned(), event_type.to_owned()), lookup);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The message is not an event; it is parked in the events DLQ.
    #[error("malformed event message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl<S: DispatcherStore, Q: Queue> Dispatcher<S, Q> {
    /// `cache_ttl`: how long a subscription lookup is reused (zero: never).
    pub fn new(store: S, deliveries: Q, dead_letters: Q, cache_ttl: Duration) -> Self {
        let subscriptions = SubscriptionCache { ttl: cache_ttl, entries: Mutex::default() };
        Self { store, deliveries, dead_letters, subscriptions, accept_unknown_types: false, tracer: Tracer::off() }
    }

    /// The same dispatcher recording a "fan-out" span per event with `tracer`, continuing the
    /// trace its message carries (a new one for an event sent straight to the queue).
    pub fn with_tracer(mut self, tracer: Tracer) -> Self {
        self.tracer = tracer;
        self
    }

    /// Dispatches events of types the tenant does not have instead of parking them (the
    /// deployment's `WEBHOOKS_UNKNOWN_EVENT_TYPES=accept`).
    pub fn accepting_unknown_types(mut self, accept: bool) -> Self {
        self.accept_unknown_types = accept;
        self
    }

    /// The endpoints subscribed to `event_type`, looked up once per batch at most.
    async fn subscribed(
        &self,
        tenant: &str,
        event_type: &str,
        batch: &BatchLookups,
    ) -> Result<Arc<Vec<Endpoint>>, StoreError> {
        let cell = batch.subscriptions(tenant, event_type);
        let endpoints = cell.get_or_try_init(|| self.look_up(tenant, event_type, batch)).await?;
        Ok(endpoints.clone())
    }

    async fn look_up(
        &self,
        tenant: &str,
        event_type: &str,
        batch: &BatchLookups,
    ) -> Result<Arc<Vec<Endpoint>>, StoreError> {
        if self.subscriptions.ttl.is_zero() {
            return Ok(Arc::new(self.store.subscribed_endpoints(tenant, event_type).await?));
        }
        // Read before the lookup, so that a change racing with the lookup is seen next time.
        let version = *batch.version(tenant).get_or_try_init(|| self.store.subscriptions_version(tenant)).await?;
        if let Some(endpoints) = self.subscriptions.get(tenant, event_type, version) {
            return Ok(endpoints);
        }
        let endpoints = Arc::new(self.store.subscribed_endpoints(tenant, event_type).await?);
        self.subscriptions.put(tenant, event_type, version, endpoints.clone());
        Ok(endpoints)
    }

    /// The pending-delivery messages of one event message, not yet sent.
    async fn fan_out(
        &self,
        message: &ReceivedMessage,
        batch: &BatchLookups,
        types: &TypeResolver<'_, S>,
    ) -> Result<Vec<String>, DispatchError> {
        let (event, dispatch, trace) = parse_event(message)?;
        let mut span = self.tracer.start("fan-out", SpanKind::Consumer, trace);
        let fanned = self.fan_out_event(event, dispatch, batch, types, span.as_ref().map(Span::context)).await;
        if let Some(span) = &mut span {
            match &fanned {
                Ok(bodies) => span.set("webhooks.deliveries", bodies.len() as i64),
                Err(error) => span.fail(error.to_string()),
            }
        }
        self.tracer.end(span);
        fanned
    }

    async fn fan_out_event(
        &self,
        event: Event,
        dispatch: String,
        batch: &BatchLookups,
        types: &TypeResolver<'_, S>,
        trace: Option<TraceContext>,
    ) -> Result<Vec<String>, DispatchError> {
        let span = tracing::Span::current();
        span.record("tenant", event.tenant.as_str());
        span.record("event_id", event.id.as_str());
        // As `POST /v1/events` checks it: the tenant has the type, its schema allows the payload.
        let known = types.resolve(&event.tenant, &event.event_type).await?;
        let mut errors = Vec::new();
        check_typed_payload(&known, self.accept_unknown_types, &event.event_type, &event.payload, "", &mut errors);
        if !errors.is_empty() {
            return Err(DispatchError::Malformed(field_errors(&errors)));
        }
        if self.store.record_event(&event, &dispatch).await? == EventRecord::Duplicate {
            tracing::debug!(event_id = %event.id, "duplicate event id; not fanned out again");
            return Ok(Vec::new());
        }
        let endpoints = self.subscribed(&event.tenant, &event.event_type, batch).await?;
        let (enabled, disabled): (Vec<&Endpoint>, Vec<&Endpoint>) = {
            let filtered = FilteredEvent::new(&event.event_type, event.entity_id.as_ref(), &event.payload);
            endpoints.iter().filter(|endpoint| endpoint_accepts(endpoint, &filtered)).partition(|e| e.enabled)
        };
        for endpoint in disabled {
            let missed = missed_while_disabled(&event, endpoint);
            // A redelivered event must not overwrite what became of an earlier fan-out.
            if self.store.delivery_status(&missed.tenant, &missed.endpoint_id, &missed.id).await?.is_none() {
                self.store.save_delivery(&missed, None).await?;
            }
        }
        let bodies: Vec<String> = enabled
            .into_iter()
            .map(|endpoint| {
                DeliveryMessage::first(
                    PendingDelivery {
                        id: &DeliveryId::for_event(&event.tenant, &event.id, &endpoint.id, event.created_at),
                        tenant: &event.tenant,
                        endpoint_id: &endpoint.id,
                        event_id: &event.id,
                        event_type: &event.event_type,
                        created_at: event.created_at,
                    },
                    trace.map(|trace| trace.traceparent()),
                )
            })
            .collect();
        Ok(bodies)
    }

    /// Parks a message in the events DLQ with `reason`, so that it can be fixed and
    /// redriven; nothing is dropped. A message that is not an event goes as it was sent; an
    /// event as it was read (see [`EventEnvelope::dispatched_from`]).
    async fn dead_letter(&self, message: &ReceivedMessage, reason: &str) -> Result<(), QueueError> {
        tracing::warn!(message_id = %message.message_id, reason, "event message parked in the events DLQ");
        let body = match parse_event(message) {
            Ok((event, dispatch, trace)) => parked_event(event, dispatch, trace),
            Err(_) => message.body.clone(),
        };
        self.dead_letters.park(body, reason).await
    }

    /// Handles a batch; answers the ids of the messages that failed (partial batch response).
    /// Deliveries go out as the fan-outs finish, [`SEND_AT`] at a time or fewer: a batch of
    /// small fan-outs shares SQS requests (ten per request), and a batch is never held in
    /// memory whole. A message that is not an event, or whose last receive
    /// ([`EVENT_MAX_RECEIVES`]) failed too, is parked with the reason instead.
    pub async fn handle_batch(&self, messages: Vec<ReceivedMessage>) -> Vec<String> {
        let batch = &BatchLookups::default();
        let types = &TypeResolver::new(&self.store);
        let mut fanned = stream::iter(messages)
            .map(|message| {
                let span = tracing::info_span!(
                    "event",
                    message_id = %message.message_id,
                    tenant = tracing::field::Empty,
                    event_id = tracing::field::Empty,
                );
                async move {
                    let result = self.fan_out(&message, batch, types).await;
                    (message, result)
                }
                .instrument(span)
            })
            .buffer_unordered(BATCH_CONCURRENCY);
        let mut settled = Settled::default();
        let mut held = Held::default();
        while let Some((message, result)) = fanned.next().await {
            match result {
                Ok(pending) if pending.is_empty() => {}
                Ok(pending) => {
                    held.bodies.extend(pending);
                    held.messages.push(message);
                    if held.bodies.len() >= SEND_AT {
                        self.send_held(&mut held, &mut settled).await;
                    }
                }
                Err(error) => settled.fail(message, error),
            }
        }
        self.send_held(&mut held, &mut settled).await;
        let Settled { mut failed, parked } = settled;
        for (message, reason) in parked {
            if let Err(error) = self.dead_letter(&message, &reason).await {
                tracing::warn!(message_id = %message.message_id, error = %ErrorChain(&error), "event message not parked; retried later");
                failed.push(message.message_id);
            }
        }
        failed
    }

    /// Sends the held deliveries; if that fails, their events' messages fail with it.
    async fn send_held(&self, held: &mut Held, settled: &mut Settled) {
        let Held { bodies, messages } = std::mem::take(held);
        if let Err(error) = self.deliveries.send_batch(bodies).await {
            // Some may have gone out; a redelivery fans out again with the same delivery ids.
            for message in messages {
                let error = BackendError::caused_by("deliveries not enqueued", error.clone());
                settled.fail(message, QueueError::Backend(error).into());
            }
        }
    }
}

/// Deliveries built and not yet sent, and the messages of the events they fan out.
#[derive(Default)]
struct Held {
    bodies: Vec<String>,
    messages: Vec<ReceivedMessage>,
}

/// What became of a batch's messages that did not go through.
#[derive(Default)]
struct Settled {
    /// Left on the queue for another receive.
    failed: Vec<String>,
    /// To park, with the reason.
    parked: Vec<(ReceivedMessage, String)>,
}

impl Settled {
    /// A malformed message is parked at once (no receive will make it an event), another at
    /// its last receive; else it is received again.
    fn fail(&mut self, message: ReceivedMessage, error: DispatchError) {
        if let DispatchError::Malformed(_) = error {
            self.parked.push((message, error.to_string()));
        } else if message.receive_count >= EVENT_MAX_RECEIVES {
            let reason =
                format!("not dispatched in {} receives; last error: {}", message.receive_count, ErrorChain(&error));
            self.parked.push((message, reason));
        } else {
            tracing::warn!(message_id = %message.message_id, error = %ErrorChain(&error), "event not dispatched; retried later");
            self.failed.push(message.message_id);
        }
    }
}

/// The trace an event leaves on a disabled endpoint it would have gone to: a `failed`
/// delivery that was never sent, with the reason; once the endpoint is enabled again, a
/// manual retry sends it.
fn missed_while_disabled(event: &Event, endpoint: &Endpoint) -> Delivery {
    Delivery {
        id: DeliveryId::for_event(&event.tenant, &event.id, &endpoint.id, event.created_at),
        tenant: event.tenant.clone(),
        endpoint_id: endpoint.id.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        status: DeliveryStatus::Failed,
        http_status: None,
        attempts: 0,
        created_at: event.created_at,
        delivered_at: None,
        next_retry_at: None,
        last_error: Some(format!("not sent: {}", endpoint.disabled_summary())),
    }
}

/// An event as the dispatcher read it, for the DLQ: its id, time and first message fixed, so
/// that a redrive (a new message) is the same event and continues the same dispatch.
fn parked_event(event: Event, dispatch: String, trace: Option<TraceContext>) -> String {
    let envelope = EventEnvelope {
        tenant: event.tenant,
        id: Some(event.id),
        event_type: event.event_type,
        entity_id: event.entity_id,
        payload: event.payload,
        received_at: Some(event.created_at),
        dispatched_from: Some(dispatch),
        traceparent: trace.map(|trace| trace.traceparent()),
    };
    envelope.message()
}

/// The event a message carries, validated as `POST /v1/events` validates it, and the id of
/// the message its dispatch started from (this one, unless it was parked and redriven).
fn parse_event(message: &ReceivedMessage) -> Result<(Event, String, Option<TraceContext>), DispatchError> {
    let envelope = EventEnvelope::parse(&message.body).map_err(|e| DispatchError::Malformed(e.to_string()))?;
    if !is_valid_tenant(&envelope.tenant) {
        return Err(DispatchError::Malformed(format!("invalid tenant {:?}", envelope.tenant)));
    }
    if envelope.dispatched_from.as_ref().is_some_and(|id| id.is_empty() || id.len() > MAX_MESSAGE_ID_LEN) {
        return Err(DispatchError::Malformed(format!("dispatched_from: must be 1..={MAX_MESSAGE_ID_LEN} bytes")));
    }
    let trace = envelope.traceparent.as_deref().and_then(TraceContext::parse);
    let incoming = IncomingEvent {
        id: envelope.id,
        event_type: envelope.event_type,
        entity_id: envelope.entity_id,
        payload: envelope.payload,
    };
    let mut errors = Vec::new();
    check_event(&incoming, "", &mut errors);
    if incoming.payload_too_large() {
        errors.push(FieldError::new("payload", format!("larger than {MAX_PAYLOAD_BYTES} bytes")));
    }
    if !errors.is_empty() {
        return Err(DispatchError::Malformed(field_errors(&errors)));
    }
    let id = incoming
        .id
        .unwrap_or_else(|| GeneratedEventId::derive(message.sent_at, message.message_id.as_bytes()).to_string());
    let event = Event {
        created_at: envelope.received_at.unwrap_or(message.sent_at),
        tenant: envelope.tenant,
        id,
        event_type: incoming.event_type,
        entity_id: incoming.entity_id.or_else(|| payload_entity_id(&incoming.payload)),
        payload: incoming.payload,
    };
    Ok((event, envelope.dispatched_from.unwrap_or_else(|| message.message_id.clone()), trace))
}

/// Field errors as one reason: `field: message; ...`.
fn field_errors(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ")
}
