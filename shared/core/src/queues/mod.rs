//! The queues: the [`Queue`] port (SQS semantics: visibility, receive count, redrive,
//! parking with a reason), each queue's definition, the messages they carry, and the
//! dead-letter queues.

pub mod dead_letters;
pub mod definitions;
pub mod messages;

use std::future::Future;
use std::time::Duration;

use crate::ports::BackendError;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    #[error("queue backend: {0}")]
    Backend(#[source] BackendError),
}

/// A message as received: its id is stable across receives, its receipt is valid for this
/// receive only.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    /// 1 on the first receive.
    pub receive_count: u32,
    pub sent_at: Timestamp,
    /// Why it is in a dead-letter queue, if [`Queue::park`] put it there with a reason (or
    /// the SQLite queue's redrive did).
    pub reason: Option<String>,
}

/// The longest reason kept with a parked message, in bytes; a longer one is cut.
pub const MAX_REASON_BYTES: usize = 1024;

/// `reason` cut to at most [`MAX_REASON_BYTES`], on a character boundary.
pub fn cut_reason(reason: &str) -> &str {
    let mut end = reason.len().min(MAX_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// The longest [`Queue::send_delayed`] delay: SQS's DelaySeconds maximum.
pub const MAX_SEND_DELAY: Duration = Duration::from_secs(15 * 60);

/// One queue with SQS semantics, as Lambda's event source mapping uses it.
pub trait Queue: Send + Sync + 'static {
    /// Enqueues every body, durably, before returning Ok. On Err some may have been sent.
    fn send_batch(&self, bodies: Vec<String>) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Enqueues one body, durably, hidden until `delay` from now (at most
    /// [`MAX_SEND_DELAY`]; longer is cut to it). Its receive count starts at zero again.
    fn send_delayed(&self, body: String, delay: Duration) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Up to `max` visible messages, waiting up to `wait` for one to arrive (long polling).
    /// Each returned message MUST stay hidden for the queue's visibility timeout. A message
    /// whose receive count already reached the queue's max receive count MUST be moved to
    /// its dead-letter queue instead of being returned.
    fn receive(
        &self,
        max: usize,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<ReceivedMessage>, QueueError>> + Send;

    /// Enqueues `body` unchanged, durably, with `reason` (cut to [`MAX_REASON_BYTES`]): how a
    /// handler parks a message in a dead-letter queue. `receive` and `peek` MUST answer the
    /// reason with the message. If the message cannot also hold the reason (SQS's 256 KiB
    /// limit counts it), it is sent without: the body is never lost to its reason.
    fn park(&self, body: String, reason: &str) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Up to `max` (at most 10) messages, for a look: they MUST stay visible to the next
    /// receive, and the queue MUST NOT redrive them for it. On SQLite the oldest ones; on SQS
    /// a sample (SQS has no listing), which counts as a receive there.
    fn peek(&self, max: usize) -> impl Future<Output = Result<Vec<ReceivedMessage>, QueueError>> + Send;

    /// Messages in the queue, visible or not (approximate on SQS).
    fn depth(&self) -> impl Future<Output = Result<u64, QueueError>> + Send;

    /// Deletes received messages; unknown or stale receipts are ignored.
    fn delete_batch(&self, receipts: Vec<String>) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Hides a received message for `hidden_for` from now (0 makes it visible at once).
    fn change_visibility(
        &self,
        receipt: &str,
        hidden_for: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}
