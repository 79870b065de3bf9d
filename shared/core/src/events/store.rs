//! The event store and the event-type store ports.

use std::future::Future;

use serde_json::value::RawValue;

use crate::events::types::EventTypeDef;
use crate::events::{EntityId, Event};
use crate::ports::{Page, StoreError};
use crate::time::Timestamp;

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
