//! An in-process stand-in for Lambda's SQS event source mapping: pollers that receive
//! batches, hand them to a batch handler, and delete the messages the handler did not report
//! as failed (partial batch response). Failed messages reappear when their visibility ends.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::ports::{Queue, ReceivedMessage};

#[derive(Clone, Debug)]
pub struct EventSourceSettings {
    /// Messages per batch (Lambda's BatchSize).
    pub batch_size: usize,
    /// Batches handled at once (Lambda's concurrency).
    pub concurrency: usize,
    /// Long-poll wait; also bounds how long a shutdown waits for an idle poller.
    pub wait: Duration,
}

/// Polls `queue` until `shutdown` turns true, then lets every batch in flight finish.
/// `handler` returns the message ids that failed.
pub async fn run_event_source<Q, H, Fut>(
    queue: Arc<Q>,
    settings: EventSourceSettings,
    handler: H,
    shutdown: watch::Receiver<bool>,
) where
    Q: Queue,
    H: Fn(Vec<ReceivedMessage>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Vec<String>> + Send,
{
    let mut pollers = JoinSet::new();
    for _ in 0..settings.concurrency.max(1) {
        let (queue, settings, handler, shutdown) = (queue.clone(), settings.clone(), handler.clone(), shutdown.clone());
        pollers.spawn(async move { poll(&*queue, &settings, handler, shutdown).await });
    }
    while pollers.join_next().await.is_some() {}
}

async fn poll<Q, H, Fut>(queue: &Q, settings: &EventSourceSettings, handler: H, shutdown: watch::Receiver<bool>)
where
    Q: Queue,
    H: Fn(Vec<ReceivedMessage>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    while !*shutdown.borrow() {
        let batch = match queue.receive(settings.batch_size, settings.wait).await {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%error, "receive failed; retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if batch.is_empty() {
            continue;
        }
        let receipts: Vec<(String, String)> = batch.iter().map(|m| (m.message_id.clone(), m.receipt.clone())).collect();
        let failed = handler(batch).await;
        let done: Vec<String> =
            receipts.into_iter().filter(|(id, _)| !failed.contains(id)).map(|(_, receipt)| receipt).collect();
        if let Err(error) = queue.delete_batch(done).await {
            // The messages come back after their visibility timeout: delivered at least once.
            tracing::warn!(%error, "delete failed");
        }
    }
}
