//! The [`Queue`] port on SQS: SendMessageBatch in chunks of 10, several at once, whose
//! failed entries are retried (never dropped), long polling, DeleteMessageBatch, ChangeMessageVisibility, and a
//! request count per operation ([`Usage`]). A parked message carries its reason in the
//! `reason` message attribute.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{BuildError, DisplayErrorContext, SdkError};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use futures_util::{StreamExt, stream};

use super::usage::Usage;
use webhooks::ports::BackendError;
use webhooks::queues::{MAX_SEND_DELAY, Queue, QueueError, ReceivedMessage, cut_reason};
use webhooks::time::Timestamp;

/// SQS's batch limits: 10 entries and 1 MiB per request.
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 1024 * 1024;
/// SQS waits at most 20 s in one long poll.
const MAX_WAIT: Duration = Duration::from_secs(20);
/// How receives that found nothing are counted.
pub const EMPTY_RECEIVE: &str = "ReceiveMessage (empty)";
/// Rounds of resending failed batch entries before reporting an error.
const ENTRY_RETRIES: u32 = 6;
/// The message attribute holding a parked message's reason.
pub const REASON_ATTRIBUTE: &str = "reason";
/// SQS's message size limit, which counts message attributes with the body.
const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: Arc<str>,
    usage: Usage,
}

fn backend<E, R>(error: SdkError<E, R>) -> QueueError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    QueueError::Backend(BackendError::caused_by("SQS", error))
}

fn request(error: BuildError) -> QueueError {
    QueueError::Backend(BackendError::caused_by("building an SQS request", error))
}

/// `SendMessageBatch` requests one [`Queue::send_batch`] has in flight at once.
const SENDS_AT_ONCE: usize = 10;

/// Consecutive runs of at most 10 bodies and 1 MiB.
fn chunks(bodies: Vec<String>) -> Vec<Vec<String>> {
    let mut chunks: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for body in bodies {
        let full = chunks.last().is_none_or(|last| last.len() == BATCH_ENTRIES || bytes + body.len() > BATCH_BYTES);
        if full {
            chunks.push(Vec::new());
            bytes = 0;
        }
        bytes += body.len();
        chunks.last_mut().expect("a chunk was pushed").push(body);
    }
    chunks
}

async fn backoff(round: u32) {
    tokio::time::sleep(Duration::from_millis(50 << round.min(6))).await;
}

impl SqsQueue {
    /// Every adapter on one client; `usage` may be shared between queues to count them together.
    pub fn new(client: Client, url: impl Into<Arc<str>>, usage: Usage) -> Self {
        Self { client, url: url.into(), usage }
    }

    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    /// A receive; `hidden_for` overrides the queue's visibility timeout.
    async fn receive_hidden_for(
        &self,
        max: usize,
        wait: Duration,
        hidden_for: Option<Duration>,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&*self.url)
            .max_number_of_messages(max.clamp(1, BATCH_ENTRIES) as i32)
            .wait_time_seconds(wait.min(MAX_WAIT).as_secs_f64().ceil() as i32)
            .set_visibility_timeout(hidden_for.map(|hidden| hidden.as_secs() as i32))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names(REASON_ATTRIBUTE)
            .send()
            .await
            .map_err(backend)?;
        let messages = output.messages.unwrap_or_default();
        // An empty receive is the price of waiting (idle polling), not of any message.
        let operation = if messages.is_empty() { EMPTY_RECEIVE } else { "ReceiveMessage" };
        self.usage.record(operation, 0.0);
        Ok(messages.into_iter().map(received).collect())
    }

    async fn send_chunk(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        let mut pending: Vec<(String, String)> =
            bodies.into_iter().enumerate().map(|(index, body)| (index.to_string(), body)).collect();
        for round in 0..=ENTRY_RETRIES {
            let entries = pending
                .iter()
                .map(|(id, body)| SendMessageBatchRequestEntry::builder().id(id).message_body(body).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(request)?;
            let result = self.client.send_message_batch().queue_url(&*self.url).set_entries(Some(entries)).send().await;
            self.usage.record("SendMessageBatch", 0.0);
            let output = match result {
                Ok(output) => output,
                Err(error) if round < ENTRY_RETRIES && error.as_service_error().is_none() => {
                    // A transport failure: none or some were sent; resending is at-least-once.
                    tracing::warn!(error = %DisplayErrorContext(&error), "SendMessageBatch failed; retrying");
                    backoff(round).await;
                    continue;
                }
                Err(error) => return Err(backend(error)),
            };
            if output.failed.is_empty() {
                return Ok(());
            }
            if let Some(rejected) = output.failed.iter().find(|failure| failure.sender_fault) {
                return Err(QueueError::Backend(
                    format!(
                        "SQS refused a message: {} {}",
                        rejected.code,
                        rejected.message.as_deref().unwrap_or_default()
                    )
                    .into(),
                ));
            }
            let failed: std::collections::HashSet<&str> = output.failed.iter().map(|f| f.id.as_str()).collect();
            pending.retain(|(id, _)| failed.contains(id.as_str()));
            tracing::warn!(failed = pending.len(), "SendMessageBatch left entries unsent; retrying them");
            backoff(round).await;
        }
        Err(QueueError::Backend(format!("{} messages still unsent after retries", pending.len()).into()))
    }
}

fn received(message: Message) -> ReceivedMessage {
    let attribute = |name| message.attributes.as_ref().and_then(|attributes| attributes.get(&name));
    let receive_count = attribute(MessageSystemAttributeName::ApproximateReceiveCount).and_then(|n| n.parse().ok());
    let sent_at = attribute(MessageSystemAttributeName::SentTimestamp).and_then(|ms| ms.parse().ok());
    let reason = message
        .message_attributes
        .as_ref()
        .and_then(|attributes| attributes.get(REASON_ATTRIBUTE))
        .and_then(|value| value.string_value.clone());
    ReceivedMessage {
        receive_count: receive_count.unwrap_or(1),
        sent_at: sent_at.map_or_else(Timestamp::now, Timestamp::from_millis),
        message_id: message.message_id.unwrap_or_default(),
        receipt: message.receipt_handle.unwrap_or_default(),
        body: message.body.unwrap_or_default(),
        reason,
    }
}

impl Queue for SqsQueue {
    async fn send_batch(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        // Several requests at once: a wide fan-out's thousand requests would otherwise take
        // a thousand round trips of the dispatcher's time.
        let mut sends =
            stream::iter(chunks(bodies)).map(|chunk| self.send_chunk(chunk)).buffer_unordered(SENDS_AT_ONCE);
        while let Some(sent) = sends.next().await {
            sent?;
        }
        Ok(())
    }

    async fn send_delayed(&self, body: String, delay: Duration) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&*self.url)
            .message_body(body)
            // Whole seconds, rounded up: never visible before it was asked to be.
            .delay_seconds(delay.min(MAX_SEND_DELAY).as_secs_f64().ceil() as i32)
            .send()
            .await
            .map_err(backend)?;
        self.usage.record("SendMessage", 0.0);
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.receive_hidden_for(max, wait, None).await
    }

    async fn park(&self, body: String, reason: &str) -> Result<(), QueueError> {
        let reason = cut_reason(reason);
        let mut send = self.client.send_message().queue_url(&*self.url);
        let attribute_bytes = REASON_ATTRIBUTE.len() + "String".len() + reason.len();
        if body.len() + attribute_bytes <= MAX_MESSAGE_BYTES {
            let value =
                MessageAttributeValue::builder().data_type("String").string_value(reason).build().map_err(request)?;
            send = send.message_attributes(REASON_ATTRIBUTE, value);
        }
        send.message_body(body).send().await.map_err(backend)?;
        self.usage.record("SendMessage", 0.0);
        Ok(())
    }

    async fn peek(&self, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        // A wait of 1 s asks every SQS server, so a short queue is not missed by sampling.
        self.receive_hidden_for(max, Duration::from_secs(1), Some(Duration::ZERO)).await
    }

    /// Messages in the queue, visible or in flight (SQS's approximate counts).
    async fn depth(&self) -> Result<u64, QueueError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&*self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(backend)?;
        let attributes = output.attributes.unwrap_or_default();
        let count = |name| attributes.get(&name).and_then(|n: &String| n.parse::<u64>().ok()).unwrap_or(0);
        Ok(count(QueueAttributeName::ApproximateNumberOfMessages)
            + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }

    async fn delete_batch(&self, receipts: Vec<String>) -> Result<(), QueueError> {
        for chunk in receipts.chunks(BATCH_ENTRIES) {
            let mut pending: Vec<(String, &String)> =
                chunk.iter().enumerate().map(|(index, receipt)| (index.to_string(), receipt)).collect();
            for round in 0..=ENTRY_RETRIES {
                let entries = pending
                    .iter()
                    .map(|(id, receipt)| {
                        DeleteMessageBatchRequestEntry::builder().id(id).receipt_handle(*receipt).build()
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(request)?;
                let output = self
                    .client
                    .delete_message_batch()
                    .queue_url(&*self.url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(backend)?;
                self.usage.record("DeleteMessageBatch", 0.0);
                // A stale receipt is the sender's fault and is ignored, as the port allows.
                let failed: std::collections::HashSet<&str> =
                    output.failed.iter().filter(|f| !f.sender_fault).map(|f| f.id.as_str()).collect();
                if failed.is_empty() {
                    break;
                }
                if round == ENTRY_RETRIES {
                    return Err(QueueError::Backend(
                        format!("{} messages still undeleted after retries", failed.len()).into(),
                    ));
                }
                pending.retain(|(id, _)| failed.contains(id.as_str()));
                backoff(round).await;
            }
        }
        Ok(())
    }

    async fn change_visibility(&self, receipt: &str, hidden_for: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&*self.url)
            .receipt_handle(receipt)
            // SQS counts whole seconds; rounding up never retries before the schedule says.
            .visibility_timeout(hidden_for.as_secs_f64().ceil().min(43_200.0) as i32)
            .send()
            .await
            .map_err(backend)?;
        self.usage.record("ChangeMessageVisibility", 0.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_ten_messages_and_one_mebibyte_at_most() {
        let sizes = |bodies: Vec<String>| chunks(bodies).iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(sizes((0..23).map(|n| n.to_string()).collect()), [10, 10, 3]);
        let big = "x".repeat(400 * 1024);
        assert_eq!(sizes(vec![big.clone(), big.clone(), big.clone(), "small".into()]), [2, 2]);
        assert!(sizes(Vec::new()).is_empty());
    }
}
