//! Deliveries' use cases: a manual resend of a failed or delivered delivery.

use super::ServiceError;
use crate::ids::{DeliveryId, EndpointId};
use crate::messages::DeliveryMessage;
use crate::model::{Delivery, DeliveryStatus};
use crate::ports::{Clock, DeliveryStore, Queue};

/// Sends a delivery again, failed or delivered, as a new first message on `deliveries` (a
/// fresh retry schedule, the same delivery id, so receivers can tell it is the same), and
/// answers it marked pending. `Conflict` while it is pending (its own retries are under
/// way) or once its event's payload is no longer retained; `NotFound` for another tenant's
/// or endpoint's delivery.
pub async fn retry<S: DeliveryStore, Q: Queue, C: Clock>(
    store: &S,
    deliveries: &Q,
    clock: &C,
    tenant: &str,
    endpoint_id: &EndpointId,
    delivery_id: &DeliveryId,
) -> Result<Delivery, ServiceError> {
    let detail = store.get_delivery(tenant, endpoint_id, delivery_id).await?;
    if detail.delivery.status == DeliveryStatus::Pending {
        return Err(ServiceError::Conflict("this delivery is pending: its retries are under way".into()));
    }
    if detail.payload.is_none() {
        return Err(ServiceError::Conflict("the event's payload is no longer retained".into()));
    }
    let mut delivery = detail.delivery;
    // Enqueued first: if that fails, the history still says failed (and retryable). Marked
    // pending only if no send has changed it since it was read.
    deliveries.send_batch(vec![DeliveryMessage::resend(&delivery)]).await?;
    let now = clock.now();
    store.requeue_delivery(&delivery.tenant, &delivery.endpoint_id, &delivery.id, delivery.attempts, now).await?;
    delivery.status = DeliveryStatus::Pending;
    delivery.next_retry_at = Some(now);
    Ok(delivery)
}
