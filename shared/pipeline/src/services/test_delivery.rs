//! The test delivery: one signed event of a given type sent to an endpoint at once, through
//! the sender's own recipe ([`deliver_once`]), and kept in the history and counted like any other.

use bytes::Bytes;
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::ServiceError;
use super::event_types::TypeResolver;
use crate::attempt::deliver_once;
use webhooks::deliveries::outbound::HttpSender;
use webhooks::deliveries::stats::{DeliveryCounts, StatsStore, hour_of};
use webhooks::deliveries::store::DeliveryStore;
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::Event;
use webhooks::events::store::{EventStore, EventTypeStore};
use webhooks::events::types::KnownType;
use webhooks::ids::{DeliveryId, EndpointId, GeneratedEventId};
use webhooks::ports::Clock;
use webhooks::queues::messages::PendingDelivery;

/// How the test went.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestOutcome {
    pub delivered: bool,
    pub http_status: Option<u16>,
    pub response_time_ms: u64,
    pub delivery_id: DeliveryId,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The ports a test delivery uses, and how long the receiver gets.
pub struct TestDelivery<'a, S, H, C> {
    pub store: &'a S,
    pub http: &'a H,
    pub clock: &'a C,
    pub timeout: std::time::Duration,
}

impl<S: EndpointStore + EventStore + DeliveryStore + StatsStore + EventTypeStore, H: HttpSender, C: Clock>
    TestDelivery<'_, S, H, C>
{
    /// Records an event of `event_type` whose data names the endpoint, sends it at once, and
    /// records the delivery. A failed test does not count towards auto-disable, and is not
    /// retried. `Invalid` for a type the tenant does not have (the endpoint need not
    /// subscribe to it; a type's schema is not applied to the test payload); `NotFound` for another tenant's endpoint.
    pub async fn send(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        event_type: &str,
    ) -> Result<TestOutcome, ServiceError> {
        if matches!(TypeResolver::new(self.store).resolve(tenant, event_type).await?, KnownType::Unknown) {
            return Err(ServiceError::invalid(
                "event_type",
                format!("unknown event type {event_type:?} (see GET /v1/event-types)"),
            ));
        }
        let endpoint = self.store.get_endpoint(tenant, endpoint_id).await?;
        let now = self.clock.now();
        let event_id = GeneratedEventId::generate(now).to_string();
        let payload = json!({
            "id": event_id,
            "event": event_type,
            "timestamp": now,
            "tenant_id": endpoint.tenant,
            "data": {"message": "Test webhook", "endpoint_id": endpoint.id},
        });
        let payload = RawValue::from_string(payload.to_string()).expect("serialized JSON is valid");
        let event = Event {
            tenant: endpoint.tenant.clone(),
            id: event_id.clone(),
            event_type: event_type.to_owned(),
            entity_id: None,
            payload,
            created_at: now,
        };
        self.store.record_event(&event, &event_id).await?;
        let delivery_id = DeliveryId::for_event(&event.tenant, &event.id, &endpoint.id, now);
        let pending = PendingDelivery {
            id: &delivery_id,
            tenant: &event.tenant,
            endpoint_id: &endpoint.id,
            event_id: &event.id,
            event_type,
            created_at: now,
        };
        let keys = endpoint.keys(now);
        let body = Bytes::copy_from_slice(event.payload.get().as_bytes());
        let attempted = deliver_once(self.http, &endpoint, &keys, pending.record(), body, now, self.timeout).await;
        let delivery = attempted.delivery;
        self.store.save_delivery(&delivery, Some(&attempted.attempt)).await?;
        // Counted at once: the endpoint's chart shows the test beside its deliveries.
        let counts = DeliveryCounts::of(delivery.status);
        self.store.add_delivery_counts(&delivery.tenant, &delivery.endpoint_id, hour_of(now), counts).await?;
        Ok(TestOutcome {
            delivered: delivery.delivered_at.is_some(),
            http_status: delivery.http_status,
            response_time_ms: attempted.attempt.duration_ms,
            delivery_id,
            error: delivery.last_error,
        })
    }
}
