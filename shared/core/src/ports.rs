//! The ports: what the handlers need from the outside world. Each backend implements them in
//! its own crate (`webhooks-sqlite`, `webhooks-aws`, `webhooks-http`); the conformance suite
//! (`tests/src/conformance.rs`) holds every adapter to these contracts.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;

use crate::event_types::EventTypeDef;
use crate::idempotency::{KeptAnswer, KeyUse, Taken};
use crate::ids::{ApiKeyId, DeliveryId, EndpointId};
use crate::model::{ApiKey, Attempt, Delivery, DeliveryDetail, DeliveryStatus, Endpoint, EntityId, Event};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// A value that MUST be unique (an endpoint's uid within its tenant) is held by another
    /// item. Unlike `Conflict`, trying again cannot help; the text names the value.
    #[error("{0}")]
    Taken(String),
    /// The backend failed; the text is for logs, never for a response body.
    #[error("storage backend: {0}")]
    Backend(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("queue backend: {0}")]
    Backend(String),
}

/// A page of results and the opaque cursor of the next page, if any.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Endpoints are listed oldest first; `after` is the last id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct EndpointQuery {
    pub after: Option<EndpointId>,
    pub limit: usize,
}

/// Deliveries are listed newest first; `before` is the last id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    /// One endpoint's history, or `None` for the tenant's delivery log (every endpoint's).
    pub endpoint_id: Option<EndpointId>,
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
    pub before: Option<DeliveryId>,
    pub limit: usize,
}

/// Events are listed newest first (by the time they were received, then id); `before` is
/// where the previous page ended.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub event_type: Option<String>,
    /// Only events received at or after this time.
    pub since: Option<Timestamp>,
    pub before: Option<EventCursor>,
    pub limit: usize,
}

/// Where a page of events ended: the last event's receive time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCursor {
    pub created_at: Timestamp,
    pub id: String,
}

impl EventCursor {
    /// As the opaque cursor carries it: `millis:id` (an event id may hold `:`, millis not).
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.created_at.as_millis(), self.id)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (millis, id) = text.split_once(':')?;
        Some(Self { created_at: Timestamp::from_millis(millis.parse().ok()?), id: id.to_owned() })
    }
}

/// An event as listed: everything but its payload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventSummary {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub entity_id: Option<EntityId>,
    /// When the service received it.
    pub created_at: Timestamp,
}

/// What recording an event found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRecord {
    /// First time this event id was seen: fan it out.
    New,
    /// Seen before, from this same queue message: a redelivery after a crash, fan out again
    /// (delivery ids are deterministic, so nothing is sent twice that was delivered).
    SameMessage,
    /// Seen before from another message: a producer's duplicate, do not fan out.
    Duplicate,
}

/// The counter after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub failure_count: u32,
    /// True when this failure reached the threshold and disabled the endpoint.
    pub disabled_now: bool,
}

/// Endpoints: their configuration, subscriptions and failure counts.
pub trait EndpointStore: Send + Sync + 'static {
    /// MUST return `Conflict` if an endpoint with this id exists, `Taken` if another endpoint
    /// of the tenant holds its `uid`.
    fn create_endpoint(&self, endpoint: &Endpoint) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// MUST return `NotFound` for an unknown id or another tenant's endpoint.
    fn get_endpoint(&self, tenant: &str, id: &EndpointId) -> impl Future<Output = Result<Endpoint, StoreError>> + Send;

    /// The endpoint of `tenant` that holds `uid` now. MUST return `NotFound` if none does (one
    /// that held it and was deleted, or took another uid, no longer does), or if only another
    /// tenant's does. MUST see a create or update that returned before the call.
    fn find_endpoint_by_uid(
        &self,
        tenant: &str,
        uid: &str,
    ) -> impl Future<Output = Result<Endpoint, StoreError>> + Send;

    /// A page of `tenant`'s endpoints, oldest first (by id), at most `query.limit`, after
    /// `query.after` if given; `next_cursor` is set only when more may follow. MUST NOT
    /// answer another tenant's endpoints.
    fn list_endpoints(
        &self,
        tenant: &str,
        query: &EndpointQuery,
    ) -> impl Future<Output = Result<Page<Endpoint>, StoreError>> + Send;

    /// Replaces the endpoint and bumps its version. MUST return `Conflict` unless the stored
    /// version equals `endpoint.version` (someone else wrote first), `NotFound` if it is gone,
    /// `Taken` if another endpoint of the tenant holds its `uid`. A uid it gave up is free for
    /// others at once.
    fn update_endpoint(&self, endpoint: &Endpoint) -> impl Future<Output = Result<Endpoint, StoreError>> + Send;

    /// Deletes the endpoint and its delivery history, freeing its uid. MUST return `NotFound`
    /// if absent.
    fn delete_endpoint(&self, tenant: &str, id: &EndpointId) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The endpoints of `tenant` subscribed to `event_type` exactly or by a wildcard, each
    /// once, disabled ones included (the dispatcher records what they missed). Entity filters
    /// are the caller's to apply.
    fn subscribed_endpoints(
        &self,
        tenant: &str,
        event_type: &str,
    ) -> impl Future<Output = Result<Vec<Endpoint>, StoreError>> + Send;

    /// A number that changes whenever anything `subscribed_endpoints` answers for `tenant` may
    /// have changed: an endpoint created, updated, deleted or disabled. One cheap read, so a
    /// cached answer can be checked instead of recomputed.
    fn subscriptions_version(&self, tenant: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Atomically adds one failure; at `disable_after` it MUST also disable the endpoint with
    /// `reason`, in the same write, and answer `disabled_now` to exactly one caller.
    /// `NotFound` if the endpoint is gone. It bumps the endpoint's version, so a PATCH that
    /// read the endpoint before it gets `Conflict` and starts over (the API retries).
    fn record_failure(
        &self,
        tenant: &str,
        id: &EndpointId,
        disable_after: u32,
        reason: &str,
    ) -> impl Future<Output = Result<FailureCount, StoreError>> + Send;

    /// Sets a failure count above zero back to zero (after a success), bumping the version
    /// as `record_failure` does; changes nothing, and answers Ok, if the count is zero or the
    /// endpoint is gone. Never enables a disabled endpoint.
    fn reset_failures(&self, tenant: &str, id: &EndpointId) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Events, stored once whatever their fan-out.
pub trait EventStore: Send + Sync + 'static {
    /// Records the event once per (tenant, id); see [`EventRecord`]. `message_id` is the queue
    /// message that carried it.
    fn record_event(
        &self,
        event: &Event,
        message_id: &str,
    ) -> impl Future<Output = Result<EventRecord, StoreError>> + Send;

    /// The payload of event `event_id` of `tenant`, byte for byte as the producer sent it;
    /// `None` if it was never recorded or is past retention. MUST see an event recorded
    /// before the call (the sender reads what the dispatcher just wrote).
    fn event_payload(
        &self,
        tenant: &str,
        event_id: &str,
    ) -> impl Future<Output = Result<Option<Box<RawValue>>, StoreError>> + Send;

    /// Event `event_id` of `tenant` with its payload; `None` if it was never recorded or is
    /// past retention. MUST NOT answer another tenant's.
    fn get_event(&self, tenant: &str, event_id: &str)
    -> impl Future<Output = Result<Option<Event>, StoreError>> + Send;

    /// A page of `tenant`'s events, newest first, filtered by `query` (type, received since),
    /// at most `query.limit`, after `query.before` if given; `next_cursor` is set only when
    /// more may follow. MUST NOT answer another tenant's events.
    fn list_events(
        &self,
        tenant: &str,
        query: &EventQuery,
    ) -> impl Future<Output = Result<Page<EventSummary>, StoreError>> + Send;
}

/// Deliveries and their attempts: the history.
pub trait DeliveryStore: Send + Sync + 'static {
    /// Writes the delivery's current state and, if given, appends an attempt to its history,
    /// in one write. Creates the delivery on first use.
    fn save_delivery(
        &self,
        delivery: &Delivery,
        attempt: Option<&Attempt>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks a failed or delivered delivery pending again (a manual resend, already
    /// enqueued), due at `at`. MUST change nothing and answer false unless the delivery exists
    /// with status `failed` or `delivered` and exactly `attempts` attempts: a send since it
    /// was read decides its state.
    fn requeue_delivery(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
        attempts: u32,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// MUST return `NotFound` for an unknown id, or another tenant's or endpoint's delivery.
    fn get_delivery(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
    ) -> impl Future<Output = Result<DeliveryDetail, StoreError>> + Send;

    /// The status of a delivery, `None` if it was never saved. Cheaper than `get_delivery`.
    fn delivery_status(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
    ) -> impl Future<Output = Result<Option<DeliveryStatus>, StoreError>> + Send;

    /// Every delivery of event `event_id` of `tenant` (one per endpoint it went to), oldest
    /// endpoint first; `received_at` is when the event was received, which its deliveries'
    /// ids carry ([`DeliveryId::time_range`]), so this reads only that slice of the log.
    fn event_deliveries(
        &self,
        tenant: &str,
        event_id: &str,
        received_at: Timestamp,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// A page of `tenant`'s deliveries, newest first, filtered by `query` (endpoint, status,
    /// event type), at most `query.limit`, before `query.before` if given; `next_cursor` is
    /// set only when more may follow. MUST NOT answer another tenant's deliveries.
    fn list_deliveries(
        &self,
        tenant: &str,
        query: &DeliveryQuery,
    ) -> impl Future<Output = Result<Page<Delivery>, StoreError>> + Send;
}

/// API keys, found by the SHA-256 of the key (the key itself is never stored).
pub trait ApiKeyStore: Send + Sync + 'static {
    /// MUST return `Conflict` if a key with this hash exists.
    fn create_api_key(&self, key: &ApiKey, key_hash: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The key whose SHA-256 (hex) is `key_hash`, if any.
    fn find_api_key(&self, key_hash: &str) -> impl Future<Output = Result<Option<ApiKey>, StoreError>> + Send;

    /// Keys of one tenant, or of every tenant when `tenant` is `None`.
    fn list_api_keys(&self, tenant: Option<&str>) -> impl Future<Output = Result<Vec<ApiKey>, StoreError>> + Send;

    /// MUST return `NotFound` if absent.
    fn delete_api_key(&self, id: &ApiKeyId) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A tenant's own event types (the default catalog is not stored).
pub trait EventTypeStore: Send + Sync + 'static {
    /// MUST return `Conflict` if the tenant has a type of this name.
    fn create_event_type(&self, def: &EventTypeDef) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The tenant's type of this name, `None` if it has none. MUST NOT answer another
    /// tenant's.
    fn get_event_type(
        &self,
        tenant: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<EventTypeDef>, StoreError>> + Send;

    /// Every type of the tenant, archived ones included, by name. MUST NOT answer another
    /// tenant's.
    fn list_event_types(&self, tenant: &str) -> impl Future<Output = Result<Vec<EventTypeDef>, StoreError>> + Send;

    /// Replaces the type and answers it with its version bumped. MUST return `Conflict`
    /// unless the stored version equals `def.version`, `NotFound` if it is gone.
    fn update_event_type(&self, def: &EventTypeDef) -> impl Future<Output = Result<EventTypeDef, StoreError>> + Send;

    /// MUST return `NotFound` if absent.
    fn delete_event_type(&self, tenant: &str, name: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Idempotency keys and the answers kept for them (see [`crate::idempotency`]).
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Takes `use.key` of `use.tenant` for this request, atomically: MUST answer `New` (and
    /// hold the key until `use.now` + [`crate::idempotency::IDEMPOTENCY_LOCK`]) when the key
    /// is unused, expired, or held by a request that ran out of its lock; else `Mismatch`
    /// if it was taken with another fingerprint, `Done` with the kept answer, or
    /// `InProgress` while its holder runs. Keys are per tenant.
    fn take_key(&self, key_use: &KeyUse<'_>) -> impl Future<Output = Result<Taken, StoreError>> + Send;

    /// Keeps `answer` for the key until `use.now` + [`crate::idempotency::IDEMPOTENCY_TTL`].
    fn keep_answer(
        &self,
        key_use: &KeyUse<'_>,
        answer: &KeptAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Frees the key (its request failed on our side, so a repeat may run); no error if it
    /// is gone.
    fn release_key(&self, tenant: &str, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// All six stores: what one backend provides. A handler asks for the ones it uses.
pub trait Store: EndpointStore + EventStore + DeliveryStore + ApiKeyStore + EventTypeStore + IdempotencyStore {}

impl<T: EndpointStore + EventStore + DeliveryStore + ApiKeyStore + EventTypeStore + IdempotencyStore> Store for T {}

/// A message as received: its id is stable across receives, its receipt is valid for this
/// receive only.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    /// 1 on the first receive.
    pub receive_count: u32,
    pub sent_at: Timestamp,
    /// Why it is in a dead-letter queue, if [`Queue::park`] put it there with a reason (or
    /// the SQLite queue's redrive did).
    pub reason: Option<String>,
}

/// The longest reason kept with a parked message, in bytes; a longer one is cut.
pub const MAX_REASON_BYTES: usize = 1024;

/// `reason` cut to at most [`MAX_REASON_BYTES`], on a character boundary.
pub fn cut_reason(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// The longest [`Queue::send_delayed`] delay: SQS's DelaySeconds maximum.
pub const MAX_SEND_DELAY: Duration = Duration::from_secs(15 * 60);

/// One queue with SQS semantics, as Lambda's event source mapping uses it.
pub trait Queue: Send + Sync + 'static {
    /// Enqueues every body, durably, before returning Ok. On Err some may have been sent.
    fn send_batch(&self, bodies: Vec<String>) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Enqueues one body, durably, hidden until `delay` from now (at most
    /// [`MAX_SEND_DELAY`]; longer is cut to it). Its receive count starts at zero again.
    fn send_delayed(&self, body: String, delay: Duration) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Up to `max` visible messages, waiting up to `wait` for one to arrive (long polling).
    /// Each returned message MUST stay hidden for the queue's visibility timeout. A message
    /// whose receive count already reached the queue's max receive count MUST be moved to
    /// its dead-letter queue instead of being returned.
    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<ReceivedMessage>, QueueError>> + Send;

    /// Enqueues `body` unchanged, durably, with `reason` (cut to [`MAX_REASON_BYTES`]): how a
    /// handler parks a message in a dead-letter queue. `receive` and `peek` MUST answer the
    /// reason with the message. If the message cannot also hold the reason (SQS's 256 KiB
    /// limit counts it), it is sent without: the body is never lost to its reason.
    fn park(&self, body: String, reason: &str) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Up to `max` (at most 10) messages, for a look: they MUST stay visible to the next
    /// receive, and the queue MUST NOT redrive them for it. On SQLite the oldest ones; on SQS
    /// a sample (SQS has no listing), which counts as a receive there.
    fn peek(&self, max: usize) -> impl Future<Output = Result<Vec<ReceivedMessage>, QueueError>> + Send;

    /// Messages in the queue, visible or not (approximate on SQS).
    fn depth(&self) -> impl Future<Output = Result<u64, QueueError>> + Send;

    /// Deletes received messages; unknown or stale receipts are ignored.
    fn delete_batch(&self, receipts: Vec<String>) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Hides a received message for `hidden_for` from now (0 makes it visible at once).
    fn change_visibility(
        &self,
        receipt: &str,
        hidden_for: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Deliveries counted per endpoint and second, for an endpoint's `rate_limit`.
pub trait RateCounter: Send + Sync + 'static {
    /// Adds one to the count of `endpoint` in second `second` (Unix seconds) and answers the
    /// count, this one included. MUST be atomic (concurrent calls answer distinct counts) and
    /// MUST start each second at zero; a second's count may be forgotten once it is over.
    fn count(&self, endpoint: &EndpointId, second: i64) -> impl Future<Output = Result<u32, StoreError>> + Send;
}

/// The time, for everything that stamps or compares it (a test may hold it still).
pub trait Clock: Send + Sync + 'static {
    /// Now. Successive calls in one process MUST NOT go backwards by more than the system
    /// clock does.
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// One signed POST to a receiver.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub timeout: Duration,
}

/// What came back: a status and the start of the body, or an error (network, timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOutcome {
    pub status: Option<u16>,
    /// At most [`RESPONSE_BODY_LIMIT`] bytes of the response body, lossily decoded.
    pub body: Option<String>,
    pub error: Option<String>,
    pub duration: Duration,
    /// The receiver's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

/// How much of a receiver's response body is kept.
pub const RESPONSE_BODY_LIMIT: usize = 4096;

/// Sends deliveries. MUST NOT follow redirects and MUST give up after `timeout`.
pub trait HttpSender: Send + Sync + 'static {
    fn post(&self, request: OutboundRequest) -> impl Future<Output = HttpOutcome> + Send;
}

/// The backends one deployment runs on, named once, so that what runs over all of them (the
/// API's state, a test of the whole pipeline on fakes) needs one type parameter.
pub trait Ports: Send + Sync + 'static {
    type Store: Store;
    type Queue: Queue;
    type Http: HttpSender;
    type Clock: Clock;
}
