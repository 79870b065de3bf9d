//! What the sender tells the operator (operational webhooks): an endpoint failing
//! (`delivery.failing` at its Nth consecutive failure), disabled by its answers
//! (`endpoint.disabled`), delivering again after failing (`delivery.recovered`), and a
//! delivery whose retries are used up (`delivery.exhausted`).

use webhooks::deliveries::receiver_answer::Answer;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::{EndpointStore, FailureCount};
use webhooks::events::operational::{OperationalEvent, OperationalType, reasons};
use webhooks::ids::DeliveryId;
use webhooks::queues::Queue;
use webhooks::time::Timestamp;

use crate::operational::notify;

pub struct OperatorAlerts<Q> {
    /// The events queue, which takes operational events to the operator's endpoints.
    pub events: Q,
    /// The consecutive failures at which `delivery.failing` is sent (once, as the count
    /// passes it).
    pub failing_after: u32,
}

impl<Q: Queue> OperatorAlerts<Q> {
    async fn tell<S: EndpointStore>(
        &self,
        store: &S,
        event_type: OperationalType,
        endpoint: &Endpoint,
        delivery: &DeliveryId,
        now: Timestamp,
    ) {
        let event = OperationalEvent::about(event_type, &endpoint.tenant, &endpoint.id).with_delivery(delivery);
        notify(&self.events, store, event, now).await;
    }

    /// After a delivered attempt: `endpoint` as read before it, failing then?
    pub async fn delivered<S: EndpointStore>(
        &self,
        store: &S,
        endpoint: &Endpoint,
        delivery: &DeliveryId,
        now: Timestamp,
    ) {
        if endpoint.failure_count >= self.failing_after {
            self.tell(store, OperationalType::DeliveryRecovered, endpoint, delivery, now).await;
        }
    }

    /// After a failed attempt, counted as `counted`.
    pub async fn failed<S: EndpointStore>(
        &self,
        store: &S,
        endpoint: &Endpoint,
        delivery: &DeliveryId,
        answer: Answer,
        counted: FailureCount,
        now: Timestamp,
    ) {
        if counted.failure_count == self.failing_after {
            let event = OperationalEvent::about(OperationalType::DeliveryFailing, &endpoint.tenant, &endpoint.id)
                .with_delivery(delivery)
                .with_failures(counted.failure_count);
            notify(&self.events, store, event, now).await;
        }
        if counted.disabled_now {
            let reason = if answer == Answer::Gone { reasons::GONE } else { reasons::FAILURES };
            let event = OperationalEvent::about(OperationalType::EndpointDisabled, &endpoint.tenant, &endpoint.id)
                .with_delivery(delivery)
                .with_reason(reason);
            notify(&self.events, store, event, now).await;
        }
    }

    /// A delivery failed its last attempt.
    pub async fn exhausted<S: EndpointStore>(
        &self,
        store: &S,
        endpoint: &Endpoint,
        delivery: &DeliveryId,
        now: Timestamp,
    ) {
        self.tell(store, OperationalType::DeliveryExhausted, endpoint, delivery, now).await;
    }
}
