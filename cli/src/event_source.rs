//! An in-process stand-in for Lambda's SQS event source mapping: pollers receive batches,
//! hand them to a batch handler, and delete the messages the handler did not report as failed
//! (partial batch response). Failed messages reappear when their visibility ends.
//!
//! Unlike Lambda, a poller never waits for what it handed over: it fetches more as soon as
//! slots free. With `one_at_a_time` each message is handled (and its slot freed) on its own,
//! so one slow receiver holds only the slots of its own messages, never a batch's.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use webhooks::ports::ErrorChain;
use webhooks::queues::{Queue, ReceivedMessage};

/// Receipts deleted per call (SQS's DeleteMessageBatch maximum).
const DELETE_BATCH: usize = 10;
/// Receiving loops per event source: enough to keep the slots fed, few enough that an idle
/// service makes few receive calls.
const MAX_POLLERS: usize = 4;

#[derive(Clone, Debug)]
pub struct EventSourceSettings {
    /// Messages per receive (Lambda's BatchSize).
    pub batch_size: usize,
    /// Batches' worth of messages handled at once (Lambda's concurrency): the source holds at
    /// most `batch_size * concurrency` messages.
    pub concurrency: usize,
    /// Long-poll wait; also bounds how long a shutdown waits for an idle poller.
    pub wait: Duration,
    /// Hand the handler one message at a time rather than the batch received (for handlers
    /// whose messages take very different times).
    pub one_at_a_time: bool,
}

impl EventSourceSettings {
    /// Messages handled at once.
    pub fn slots(&self) -> usize {
        self.batch_size.max(1) * self.concurrency.max(1)
    }
}

/// Polls `queue` until `shutdown` turns true, then lets every message in flight finish.
/// `handler` returns the ids of the messages that failed.
pub async fn run_event_source<Q, H, Fut>(
    queue: Arc<Q>,
    settings: EventSourceSettings,
    handler: H,
    shutdown: watch::Receiver<bool>,
) where
    Q: Queue,
    H: Fn(Vec<ReceivedMessage>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Vec<String>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(settings.slots()));
    let (done, receipts) = mpsc::unbounded_channel();
    let deleter = tokio::spawn(delete_handled(queue.clone(), receipts));
    let mut pollers = JoinSet::new();
    for _ in 0..settings.concurrency.clamp(1, MAX_POLLERS) {
        let source =
            Source { queue: queue.clone(), settings: settings.clone(), slots: slots.clone(), done: done.clone() };
        let (handler, shutdown) = (handler.clone(), shutdown.clone());
        pollers.spawn(async move { source.poll(handler, shutdown).await });
    }
    drop(done);
    while pollers.join_next().await.is_some() {}
    let _ = deleter.await;
}

/// What one poller shares with the others.
struct Source<Q> {
    queue: Arc<Q>,
    settings: EventSourceSettings,
    slots: Arc<Semaphore>,
    /// Receipts of handled messages, for the deleter.
    done: mpsc::UnboundedSender<String>,
}

impl<Q: Queue> Source<Q> {
    async fn poll<H, Fut>(&self, handler: H, shutdown: watch::Receiver<bool>)
    where
        H: Fn(Vec<ReceivedMessage>) -> Fut,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        let mut handling = JoinSet::new();
        while !*shutdown.borrow() {
            while handling.try_join_next().is_some() {}
            // Wait for one free slot, then take as many more as are free, up to a batch.
            let Ok(mut permits) = self.slots.clone().acquire_owned().await else { break };
            while permits.num_permits() < self.settings.batch_size {
                match self.slots.clone().try_acquire_owned() {
                    Ok(more) => permits.merge(more),
                    Err(_) => break,
                }
            }
            let batch = match self.queue.receive(permits.num_permits(), self.settings.wait).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(error = %ErrorChain(&error), "receive failed; retrying in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if batch.is_empty() {
                continue;
            }
            let batches = if self.settings.one_at_a_time {
                batch.into_iter().map(|message| vec![message]).collect()
            } else {
                vec![batch]
            };
            for batch in batches {
                let permit = permits.split(batch.len()).expect("one permit per received message");
                let receipts: Vec<(String, String)> =
                    batch.iter().map(|m| (m.message_id.clone(), m.receipt.clone())).collect();
                let handled = handler(batch);
                let done = self.done.clone();
                handling.spawn(async move {
                    let failed = handled.await;
                    for (id, receipt) in receipts {
                        if !failed.contains(&id) {
                            let _ = done.send(receipt);
                        }
                    }
                    drop(permit);
                });
            }
        }
        while handling.join_next().await.is_some() {}
    }
}

/// Deletes handled messages, as many per call as have been handled since the last one.
async fn delete_handled<Q: Queue>(queue: Arc<Q>, mut receipts: mpsc::UnboundedReceiver<String>) {
    while let Some(first) = receipts.recv().await {
        let mut batch = vec![first];
        while batch.len() < DELETE_BATCH {
            match receipts.try_recv() {
                Ok(receipt) => batch.push(receipt),
                Err(_) => break,
            }
        }
        if let Err(error) = queue.delete_batch(batch).await {
            // The messages come back after their visibility timeout: delivered at least once.
            tracing::warn!(error = %ErrorChain(&error), "delete failed");
        }
    }
}
