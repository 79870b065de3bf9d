//! The queue message formats: the contract between the API, the dispatcher and the sender,
//! and for services that send events straight to the events queue. Each message carries its
//! kind and version (`protocol`).

mod protocol;

pub use protocol::{DeliveriesMessage, MESSAGE_VERSION, MessageError};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::deliveries::{Delivery, DeliveryStatus};
use crate::events::EntityId;
use crate::ids::{DeliveryId, EndpointId, Tenant};
use crate::time::Timestamp;

/// An event on the events queue: the body of `POST /v1/events` (one event) plus the tenant.
/// Other services may send it straight to the queue; without an `id`, the event takes one
/// derived from the queue message, so a redelivery keeps it.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub tenant: Tenant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<EntityId>,
    pub payload: Box<RawValue>,
    /// When the API accepted it; deliveries take their time-ordered ids from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    /// The queue message this event was first dispatched from. The dispatcher sets it (with
    /// `id` and `received_at`) on an event it parks after failing to fan it out, so that a
    /// redrive continues that dispatch, with the same delivery ids, instead of counting as a
    /// producer's duplicate of the event id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatched_from: Option<String>,
    /// The W3C `traceparent` of the span that accepted it, when traces are on: the
    /// dispatcher's fan-out continues that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// A pending delivery on the deliveries queue. The message is the pending record: the
/// delivery is written to the store when its first attempt ends. It carries no copy of the
/// payload: the event is stored once, and the sender reads it from there, so a fan-out to
/// hundreds of endpoints costs hundreds of small messages, not hundreds of payloads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryMessage<'a> {
    pub id: DeliveryId,
    pub tenant: Tenant,
    pub endpoint_id: EndpointId,
    pub event_id: String,
    pub event_type: String,
    pub created_at: Timestamp,
    /// Only in messages written before deliveries stopped carrying the payload; the sender
    /// still sends those from it.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<&'a RawValue>,
    /// Attempts made from earlier messages of this delivery: a message re-sent to defer its
    /// delivery starts its receive count again, and the attempt number is this plus it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts_before: u32,
    /// Times this delivery was deferred (its endpoint slow and busy, or at its rate limit);
    /// each deferral for a busy endpoint waits longer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deferrals: u32,
    /// On a manual resend: the attempts the delivery had when it was asked. The sender sends
    /// a delivered delivery again only while it still has exactly these (so a redelivered
    /// message does not send it twice); without it, a delivered delivery is never re-sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_after: Option<u32>,
    /// The W3C `traceparent` of the fan-out that made it, when traces are on: each attempt's
    /// span is its child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// What is left of a recovery: `tenant`'s endpoint's failed deliveries created at or after
/// `since`, and before `before` (a delivery id, exclusive) once a page is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoverJob {
    pub tenant: String,
    pub endpoint_id: EndpointId,
    pub since: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<DeliveryId>,
}

impl RecoverJob {
    /// A job over `[since, until)`; `until` absent: up to now.
    pub fn new(tenant: &str, endpoint_id: &EndpointId, since: Timestamp, until: Option<Timestamp>) -> Self {
        // Delivery ids sort by time: the smallest id of `until`'s millisecond bounds the window.
        let before = until.and_then(|until| DeliveryId::parse(&DeliveryId::time_range(until).0));
        Self { tenant: tenant.to_owned(), endpoint_id: endpoint_id.clone(), since, before }
    }

    /// The job as a deliveries-queue message.
    pub fn message(&self) -> String {
        protocol::tagged("recover", self)
    }
}

/// What a delivery is, as its messages carry it.
pub struct PendingDelivery<'a> {
    pub id: &'a DeliveryId,
    pub tenant: &'a str,
    pub endpoint_id: &'a EndpointId,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub created_at: Timestamp,
}

impl<'a> PendingDelivery<'a> {
    /// What delivery `delivery` is.
    pub fn of(delivery: &'a Delivery) -> Self {
        PendingDelivery {
            id: &delivery.id,
            tenant: &delivery.tenant,
            endpoint_id: &delivery.endpoint_id,
            event_id: &delivery.event_id,
            event_type: &delivery.event_type,
            created_at: delivery.created_at,
        }
    }

    /// The delivery's record before any attempt: pending, nothing sent yet.
    pub fn record(&self) -> Delivery {
        Delivery {
            id: self.id.clone(),
            tenant: self.tenant.to_owned(),
            endpoint_id: self.endpoint_id.clone(),
            event_id: self.event_id.to_owned(),
            event_type: self.event_type.to_owned(),
            status: DeliveryStatus::Pending,
            http_status: None,
            attempts: 0,
            created_at: self.created_at,
            delivered_at: None,
            next_retry_at: None,
            last_error: None,
        }
    }
}

impl DeliveryMessage<'_> {
    /// What delivery this message is of.
    pub fn pending(&self) -> PendingDelivery<'_> {
        PendingDelivery {
            id: &self.id,
            tenant: &self.tenant,
            endpoint_id: &self.endpoint_id,
            event_id: &self.event_id,
            event_type: &self.event_type,
            created_at: self.created_at,
        }
    }

    /// The body of a delivery's first message (the dispatcher's, or a manual retry's): no
    /// attempts made, none deferred, the payload left in the store.
    pub fn first(delivery: PendingDelivery<'_>, traceparent: Option<String>) -> String {
        let message = DeliveryMessage {
            id: delivery.id.clone(),
            tenant: delivery.tenant.to_owned(),
            endpoint_id: delivery.endpoint_id.clone(),
            event_id: delivery.event_id.to_owned(),
            event_type: delivery.event_type.to_owned(),
            created_at: delivery.created_at,
            payload: None,
            attempts_before: 0,
            deferrals: 0,
            resend_after: None,
            traceparent,
        };
        protocol::tagged("deliver", &message)
    }

    /// The body of a manual resend of `delivery` (failed or delivered): a first message, with
    /// a fresh retry schedule, marked with the attempts the delivery has now.
    pub fn resend(delivery: &Delivery) -> String {
        let message = DeliveryMessage {
            id: delivery.id.clone(),
            tenant: delivery.tenant.clone(),
            endpoint_id: delivery.endpoint_id.clone(),
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type.clone(),
            created_at: delivery.created_at,
            payload: None,
            attempts_before: 0,
            deferrals: 0,
            resend_after: Some(delivery.attempts),
            traceparent: None,
        };
        protocol::tagged("deliver", &message)
    }

    /// The number of the attempt this receive makes (1 for the first).
    pub fn attempt_number(&self, receive_count: u32) -> u32 {
        self.attempts_before.saturating_add(receive_count.max(1))
    }

    /// This message re-sent for later, after a receive that made no attempt.
    pub fn deferred(&self, receive_count: u32) -> String {
        self.resent(receive_count, self.deferrals.saturating_add(1))
    }

    /// This message re-sent to another queue (the sender's slow lane) after a receive that
    /// recorded no attempt.
    pub fn moved(&self, receive_count: u32) -> String {
        self.resent(receive_count, self.deferrals)
    }

    fn resent(&self, receive_count: u32, deferrals: u32) -> String {
        let resent =
            DeliveryMessage { attempts_before: self.attempt_number(receive_count) - 1, deferrals, ..self.clone() };
        protocol::tagged("deliver", &resent)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
