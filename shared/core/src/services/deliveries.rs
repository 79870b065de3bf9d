//! Deliveries' use cases: a manual retry of a failed delivery.

use super::ServiceError;
use crate::ids::{DeliveryId, EndpointId};
use crate::messages::{DeliveryMessage, PendingDelivery};
use crate::model::{Delivery, DeliveryStatus};
use crate::ports::{Clock, DeliveryStore, Queue};

/// Sends a failed delivery again, as a new first message on `deliveries`, and answers it
/// marked pending. `Conflict` unless it is `failed` and its event's payload is retained;
/// `NotFound` for another tenant's or endpoint's delivery.
pub async fn retry<S: DeliveryStore, Q: Queue, C: Clock>(
    store: &S,
    deliveries: &Q,
    clock: &C,
    tenant: &str,
    endpoint_id: &EndpointId,
    delivery_id: &DeliveryId,
) -> Result<Delivery, ServiceError> {
    let detail = store.get_delivery(tenant, endpoint_id, delivery_id).await?;
    if detail.delivery.status != DeliveryStatus::Failed {
        return Err(ServiceError::Conflict(format!(
            "only failed deliveries can be retried; this one is {}",
            detail.delivery.status.as_str()
        )));
    }
    if detail.payload.is_none() {
        return Err(ServiceError::Conflict("the event's payload is no longer retained".into()));
    }
    let mut delivery = detail.delivery;
    // Enqueued first: if that fails, the history still says failed (and retryable). Marked
    // pending only if no send has changed it since it was read.
    deliveries.send_batch(vec![DeliveryMessage::first(PendingDelivery::of(&delivery))]).await?;
    let now = clock.now();
    store.requeue_delivery(&delivery.tenant, &delivery.endpoint_id, &delivery.id, delivery.attempts, now).await?;
    delivery.status = DeliveryStatus::Pending;
    delivery.next_retry_at = Some(now);
    Ok(delivery)
}
