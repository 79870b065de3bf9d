//! The dispatcher: fans each event out into one pending delivery per matching endpoint.
//!
//! Generic over the ports, so the same code runs under Lambda (SQS event source) and in
//! `webhooks serve` (the in-process event source).

use futures_util::StreamExt;
use futures_util::stream;
use webhooks::catalog::is_known_type;
use webhooks::filter::endpoint_accepts;
use webhooks::ids::DeliveryId;
use webhooks::messages::{DeliveryMessage, EventEnvelope};
use webhooks::model::Event;
use webhooks::ports::{EventRecord, Queue, QueueError, ReceivedMessage, Store, StoreError};

/// Events handled at once within one batch.
const BATCH_CONCURRENCY: usize = 10;

/// What the dispatcher works with; built once per process.
pub struct Dispatcher<S, Q> {
    pub store: S,
    /// Where pending deliveries go.
    pub deliveries: Q,
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The message is not an event; it will end in the events DLQ.
    #[error("malformed event message: {0}")]
    Malformed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl<S: Store, Q: Queue> Dispatcher<S, Q> {
    /// Fans one event out; answers how many deliveries were enqueued.
    pub async fn handle_message(&self, message: &ReceivedMessage) -> Result<usize, DispatchError> {
        let envelope: EventEnvelope =
            serde_json::from_str(&message.body).map_err(|e| DispatchError::Malformed(e.to_string()))?;
        if !is_known_type(&envelope.event_type) {
            return Err(DispatchError::Malformed(format!("unknown event type {:?}", envelope.event_type)));
        }
        let event = Event {
            created_at: envelope.received_at.unwrap_or(message.sent_at),
            tenant: envelope.tenant,
            id: envelope.id,
            event_type: envelope.event_type,
            entity_id: envelope.entity_id,
            payload: envelope.payload,
        };
        if self.store.record_event(&event, &message.message_id).await? == EventRecord::Duplicate {
            tracing::debug!(event_id = %event.id, "duplicate event id; not fanned out again");
            return Ok(0);
        }
        let endpoints = self.store.subscribed_endpoints(&event.tenant, &event.event_type).await?;
        let bodies: Vec<String> = endpoints
            .iter()
            .filter(|endpoint| endpoint_accepts(endpoint, &event.event_type, event.entity_id.as_ref()))
            .map(|endpoint| {
                let pending = DeliveryMessage {
                    id: DeliveryId::for_event(&event.tenant, &event.id, &endpoint.id, event.created_at),
                    tenant: event.tenant.clone(),
                    endpoint_id: endpoint.id.clone(),
                    event_id: event.id.clone(),
                    event_type: event.event_type.clone(),
                    created_at: event.created_at,
                    payload: &event.payload,
                };
                serde_json::to_string(&pending).expect("delivery messages serialize")
            })
            .collect();
        let fan_out = bodies.len();
        self.deliveries.send_batch(bodies).await?;
        Ok(fan_out)
    }

    /// Handles a batch; answers the ids of the messages that failed (partial batch response).
    pub async fn handle_batch(&self, messages: Vec<ReceivedMessage>) -> Vec<String> {
        stream::iter(messages)
            .map(|message| async move {
                match self.handle_message(&message).await {
                    Ok(_) => None,
                    Err(error) => {
                        tracing::warn!(message_id = %message.message_id, %error, "event not dispatched");
                        Some(message.message_id)
                    }
                }
            })
            .buffer_unordered(BATCH_CONCURRENCY)
            .filter_map(std::future::ready)
            .collect()
            .await
    }
}
