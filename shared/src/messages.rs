//! The queue message formats: the contract between the API, the dispatcher and the sender,
//! and for services that send events straight to the events queue.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ids::{DeliveryId, EndpointId};
use crate::model::{EntityId, Tenant};
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
}

/// A pending delivery on the deliveries queue. The message is the pending record: the
/// delivery is written to the store when its first attempt ends. It carries no copy of the
/// payload: the event is stored once, and the sender reads it from there, so a fan-out to
/// hundreds of endpoints costs hundreds of small messages, not hundreds of payloads.
#[derive(Debug, Serialize, Deserialize)]
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
}
