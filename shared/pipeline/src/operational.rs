//! Sending operational events ([`webhooks::events::operational`]) on the events queue, from
//! where the dispatcher fans them out to the operator's endpoints like any event. Only when
//! one of them takes the type: a deployment without operational webhooks pays one read per
//! event, not a message and a fan-out. A failure to look or to enqueue is logged and never
//! fails what raised it: the endpoint was created, the delivery recorded, whether or not
//! the operator hears of it.

use webhooks::endpoints::store::EndpointStore;
use webhooks::events::operational::{OPERATOR_TENANT, OperationalEvent};
use webhooks::ports::ErrorChain;
use webhooks::queues::Queue;
use webhooks::time::Timestamp;

pub async fn notify<Q: Queue, S: EndpointStore>(events: &Q, store: &S, event: OperationalEvent, now: Timestamp) {
    if !event.is_sent() {
        return;
    }
    match store.subscribed_endpoints(OPERATOR_TENANT, event.event_type.name()).await {
        Ok(subscribed) if subscribed.iter().all(|endpoint| !endpoint.enabled) => return,
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(event_type = event.event_type.name(), error = %ErrorChain(&error), "operational event not sent");
            return;
        }
    }
    if let Err(error) = events.send_batch(vec![event.message(now)]).await {
        tracing::warn!(
            event_type = event.event_type.name(),
            endpoint_id = %event.data.endpoint_id,
            error = %ErrorChain(&error),
            "operational event not sent"
        );
    }
}
