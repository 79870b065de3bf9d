//! Operational events: what the service tells its operator about itself (an endpoint
//! created, disabled, failing; a delivery given up), delivered like any event to the
//! operator's own endpoints (`/v1/operational-webhooks`), which belong to a reserved tenant.
//!
//! Nothing is ever said about the operator's own endpoints: an operational endpoint that
//! fails must not raise an event that is delivered to it, and fails, and raises another.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::events::EntityId;
use crate::ids::{EndpointId, GeneratedEventId};
use crate::queues::messages::EventEnvelope;
use crate::time::Timestamp;

/// The tenant that holds the operational webhooks. It is not a valid name for a key or a
/// portal session (the API refuses to mint one for it), so only an admin reaches it, through
/// `/v1/operational-webhooks`.
pub const OPERATOR_TENANT: &str = "_operator";

/// Consecutive failed attempts of an endpoint at which `delivery.failing` is sent, unless
/// the deployment says otherwise (`WEBHOOKS_DELIVERY_FAILING_AFTER`).
pub const DEFAULT_FAILING_AFTER: u32 = 4;

/// Every operational event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationalType {
    EndpointCreated,
    EndpointUpdated,
    EndpointDeleted,
    EndpointDisabled,
    EndpointEnabled,
    DeliveryFailing,
    DeliveryExhausted,
    DeliveryRecovered,
}

impl OperationalType {
    pub const ALL: [OperationalType; 8] = [
        OperationalType::EndpointCreated,
        OperationalType::EndpointUpdated,
        OperationalType::EndpointDeleted,
        OperationalType::EndpointDisabled,
        OperationalType::EndpointEnabled,
        OperationalType::DeliveryFailing,
        OperationalType::DeliveryExhausted,
        OperationalType::DeliveryRecovered,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OperationalType::EndpointCreated => "endpoint.created",
            OperationalType::EndpointUpdated => "endpoint.updated",
            OperationalType::EndpointDeleted => "endpoint.deleted",
            OperationalType::EndpointDisabled => "endpoint.disabled",
            OperationalType::EndpointEnabled => "endpoint.enabled",
            OperationalType::DeliveryFailing => "delivery.failing",
            OperationalType::DeliveryExhausted => "delivery.exhausted",
            OperationalType::DeliveryRecovered => "delivery.recovered",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            OperationalType::EndpointCreated => "A tenant's endpoint was created",
            OperationalType::EndpointUpdated => "A tenant's endpoint was changed (PATCH)",
            OperationalType::EndpointDeleted => "A tenant's endpoint was deleted",
            OperationalType::EndpointDisabled => {
                "A tenant's endpoint was disabled: reason failures (consecutive failed attempts), gone (410) or manual"
            }
            OperationalType::EndpointEnabled => "A tenant's disabled endpoint was enabled again",
            OperationalType::DeliveryFailing => {
                "An endpoint's attempts failed this many times in a row (WEBHOOKS_DELIVERY_FAILING_AFTER, 4 by default)"
            }
            OperationalType::DeliveryExhausted => "A delivery failed its last attempt: no retry follows",
            OperationalType::DeliveryRecovered => "An endpoint that was failing delivered again",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Why an endpoint was disabled, in `endpoint.disabled`'s `reason`.
pub mod reasons {
    pub const FAILURES: &str = "failures";
    pub const GONE: &str = "gone";
    pub const MANUAL: &str = "manual";
}

/// What an operational event is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OperationalData {
    pub tenant: String,
    pub endpoint_id: EndpointId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `delivery.failing`: the consecutive failures so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
}

/// One operational event; its payload is what the operator's endpoints receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationalEvent {
    pub event_type: OperationalType,
    pub data: OperationalData,
}

#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "type")]
    event_type: &'static str,
    timestamp: String,
    data: &'a OperationalData,
}

impl OperationalEvent {
    pub fn about(event_type: OperationalType, tenant: &str, endpoint_id: &EndpointId) -> Self {
        let data = OperationalData {
            tenant: tenant.to_owned(),
            endpoint_id: endpoint_id.clone(),
            delivery_id: None,
            reason: None,
            failures: None,
        };
        Self { event_type, data }
    }

    pub fn with_reason(mut self, reason: &str) -> Self {
        self.data.reason = Some(reason.to_owned());
        self
    }

    pub fn with_delivery(mut self, delivery_id: impl ToString) -> Self {
        self.data.delivery_id = Some(delivery_id.to_string());
        self
    }

    pub fn with_failures(mut self, failures: u32) -> Self {
        self.data.failures = Some(failures);
        self
    }

    /// Whether it is to be sent at all: never about the operator's own endpoints.
    pub fn is_sent(&self) -> bool {
        self.data.tenant != OPERATOR_TENANT
    }

    /// `{"type", "timestamp", "data"}`: the body the operator's endpoints receive.
    pub fn payload(&self, now: Timestamp) -> Box<RawValue> {
        let payload = Payload { event_type: self.event_type.name(), timestamp: now.to_rfc3339(), data: &self.data };
        serde_json::value::to_raw_value(&payload).expect("serializable")
    }

    /// The events queue's message for it, an event of the operator tenant whose entity is
    /// the endpoint it is about.
    pub fn message(&self, now: Timestamp) -> String {
        EventEnvelope {
            tenant: OPERATOR_TENANT.to_owned(),
            id: Some(GeneratedEventId::generate(now).to_string()),
            event_type: self.event_type.name().to_owned(),
            entity_id: Some(EntityId::Text(self.data.endpoint_id.to_string())),
            payload: self.payload(now),
            received_at: Some(now),
            dispatched_from: None,
            traceparent: None,
        }
        .message()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_says_what_and_about_whom_and_never_a_secret() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let endpoint = EndpointId::generate(now);
        let event = OperationalEvent::about(OperationalType::EndpointDisabled, "acme", &endpoint)
            .with_reason(reasons::FAILURES)
            .with_delivery("del_1");
        let payload: serde_json::Value = serde_json::from_str(event.payload(now).get()).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({
                "type": "endpoint.disabled",
                "timestamp": now.to_rfc3339(),
                "data": {"tenant": "acme", "endpoint_id": endpoint.to_string(), "delivery_id": "del_1", "reason": "failures"},
            })
        );
        let message: serde_json::Value = serde_json::from_str(&event.message(now)).unwrap();
        assert_eq!(message["tenant"], OPERATOR_TENANT);
        assert_eq!(message["type"], "endpoint.disabled");
        assert!(event.is_sent());
        assert!(!OperationalEvent::about(OperationalType::EndpointCreated, OPERATOR_TENANT, &endpoint).is_sent());
        for t in OperationalType::ALL {
            assert_eq!(OperationalType::parse(t.name()), Some(t));
        }
    }
}
