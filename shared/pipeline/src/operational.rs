//! Sending operational events ([`webhooks::events::operational`]) on the events queue, from
//! where the dispatcher fans them out to the operator's endpoints like any event. A failure
//! to enqueue one is logged and never fails what raised it: the endpoint was created, the
//! delivery recorded, whether or not the operator hears of it.

use webhooks::events::operational::OperationalEvent;
use webhooks::ports::ErrorChain;
use webhooks::queues::Queue;
use webhooks::time::Timestamp;

pub async fn notify<Q: Queue>(events: &Q, event: OperationalEvent, now: Timestamp) {
    if !event.is_sent() {
        return;
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
