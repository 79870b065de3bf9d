//! Dead letters: what the pipeline could not handle, parked with its reason
//! ([`crate::queues::Queue::park`]), looked at, and sent back once the cause is fixed. A
//! receiver's failures are not here: they are `failed` deliveries in the history.

use std::time::Duration;

use crate::queues::{Queue, QueueError};
use crate::time::Timestamp;

/// Receives of an event message before it is parked in the events DLQ: the dispatcher parks
/// it itself at the last one, with the error, and the queue's redrive holds to the same count.
pub const EVENT_MAX_RECEIVES: u32 = 5;

/// The most messages one redrive moves; call again for more.
pub const MAX_REDRIVE: usize = 1000;

/// The two dead-letter queues, by the name the API gives them.
#[derive(Clone)]
pub struct DeadLetterQueues<Q> {
    /// Messages that are not events, and events the dispatcher could not fan out.
    pub events: Q,
    /// Delivery messages the sender could not process (never a receiver's failure).
    pub deliveries: Q,
}

/// Which queue, as named in `/v1/dead-letters/{queue}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadLetterQueue {
    Events,
    Deliveries,
}

impl DeadLetterQueue {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "events" => Some(Self::Events),
            "deliveries" => Some(Self::Deliveries),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Events => "events",
            Self::Deliveries => "deliveries",
        }
    }
}

impl<Q> DeadLetterQueues<Q> {
    pub fn get(&self, queue: DeadLetterQueue) -> &Q {
        match queue {
            DeadLetterQueue::Events => &self.events,
            DeadLetterQueue::Deliveries => &self.deliveries,
        }
    }
}

/// Moves up to `max` messages from `dead_letters` back to `source`, bodies unchanged and
/// reasons dropped; answers how many moved. Only what was parked before the call moves (at
/// most the depth it found), so a message that fails again and is parked again during the
/// redrive waits for the next one instead of going round. A message is deleted from
/// `dead_letters` only once `source` holds it: if sending fails, it shows again after the
/// DLQ's visibility timeout, and nothing is lost (a failure after the send may leave it in
/// both).
pub async fn redrive<Q: Queue>(dead_letters: &Q, source: &Q, max: usize) -> Result<usize, QueueError> {
    let started = Timestamp::now();
    let max = max.min(usize::try_from(dead_letters.depth().await?).unwrap_or(usize::MAX));
    let mut moved = 0;
    while moved < max {
        // A wait of 1 s asks every SQS server, so the last few are not missed by sampling.
        let batch = dead_letters.receive((max - moved).min(10), Duration::from_secs(1)).await?;
        if batch.is_empty() {
            break;
        }
        let (earlier, since): (Vec<_>, Vec<_>) = batch.into_iter().partition(|message| message.sent_at < started);
        for message in &since {
            dead_letters.change_visibility(&message.receipt, Duration::ZERO).await?;
        }
        let (bodies, receipts): (Vec<String>, Vec<String>) =
            earlier.into_iter().map(|message| (message.body, message.receipt)).unzip();
        let count = bodies.len();
        source.send_batch(bodies).await?;
        dead_letters.delete_batch(receipts).await?;
        moved += count;
        if !since.is_empty() {
            break;
        }
    }
    Ok(moved)
}
