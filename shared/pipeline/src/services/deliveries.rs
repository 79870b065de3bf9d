//! Deliveries' use cases: a manual resend of a failed or delivered delivery.

use super::ServiceError;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::deliveries::{Delivery, DeliveryStatus};
use webhooks::ids::{DeliveryId, EndpointId};
use webhooks::ports::{BackendError, Clock, ErrorChain};
use webhooks::queues::Queue;
use webhooks::queues::messages::DeliveryMessage;

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
    let before = detail.delivery;
    // Claimed first: marked pending only if nothing changed it since it was read, so of two
    // asks at once (two recover jobs, a job and a hand) one sends it. If the send to the
    // queue then fails, it is given back as it was, and retryable again.
    let now = clock.now();
    if !store.requeue_delivery(&before.tenant, &before.endpoint_id, &before.id, before.attempts, now).await? {
        return Err(ServiceError::Conflict("this delivery changed meanwhile: it is being sent".into()));
    }
    if let Err(error) = deliveries.send_batch(vec![DeliveryMessage::resend(&before)]).await {
        return Err(match store.save_delivery(&before, None).await {
            Ok(()) => error.into(),
            Err(undo) => ServiceError::Backend(BackendError::caused_by(
                format!("{}; and {} is left pending", ErrorChain(&error), before.id),
                undo,
            )),
        });
    }
    Ok(Delivery { status: DeliveryStatus::Pending, next_retry_at: Some(now), ..before })
}
