//! The [`Queue`] port on SQLite, with SQS semantics: per-message visibility timeout, receive
//! count, redrive to a dead-letter queue at the receive after `max_receive_count`, and long
//! polling that a send wakes at once. A send wakes one waiting receiver per 10 messages,
//! not all: each receive that finds a message is a write transaction, and at low rates the
//! others would race for it and find nothing; a receive that filled its batch wakes one more, in case there is more. A receive
//! looks on a read connection first, so one that finds nothing writes nothing. A parked
//! message keeps its reason in a column; the redrive gives one to those it moves.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{SqliteDatabase, backend};
use webhooks::ports::{BackendError, StoreError};
use webhooks::queues::definitions::QueueDefinition;
use webhooks::queues::{MAX_SEND_DELAY, Queue, QueueError, ReceivedMessage, cut_reason};
use webhooks::time::Timestamp;

/// One queue in the file. Built from the service's one definition of each queue
/// ([`QueueDefinition`]); a test may make its own.
#[derive(Clone, Debug)]
pub struct QueueSettings {
    pub name: String,
    /// How long a received message stays hidden unless deleted or changed.
    pub visibility_timeout: Duration,
    /// The redrive policy: after this many receives a message moves to `dead_letter_queue`.
    pub max_receive_count: Option<u32>,
    pub dead_letter_queue: Option<String>,
}

impl From<&QueueDefinition> for QueueSettings {
    /// Everything but retention: messages stay until handled (SQLite has room, and the
    /// retention of events and deliveries is the store's).
    fn from(definition: &QueueDefinition) -> Self {
        Self {
            name: definition.name.clone(),
            visibility_timeout: definition.visibility_timeout,
            max_receive_count: definition.redrive.as_ref().map(|(_, max)| *max),
            dead_letter_queue: definition.redrive.as_ref().map(|(name, _)| name.clone()),
        }
    }
}

#[derive(Clone)]
pub struct SqliteQueue {
    db: SqliteDatabase,
    settings: Arc<QueueSettings>,
    wake: Arc<Notify>,
}

fn queue_error(e: StoreError) -> QueueError {
    QueueError::Backend(BackendError::caused_by("SQLite", e))
}

/// `"{message id}.{receive count}"`: a receipt is valid for one receive only.
fn parse_receipt(receipt: &str) -> Option<(i64, u32)> {
    let (id, count) = receipt.split_once('.')?;
    Some((id.parse().ok()?, count.parse().ok()?))
}

impl SqliteQueue {
    pub(super) fn new(db: SqliteDatabase, settings: QueueSettings) -> Self {
        let wake = db.wake_handle(&settings.name);
        Self { db, settings: Arc::new(settings), wake }
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Makes the messages that a previous process had received, and never finished, visible
    /// again at once. Only safe while this process is the file's only consumer (`serve`
    /// holds a lock on its data directory); SQS would wait out the visibility timeout.
    pub async fn recover_in_flight(&self) -> Result<u64, QueueError> {
        let name = self.settings.name.clone();
        let now = Timestamp::now().as_millis();
        let recovered = self
            .db
            .write(move |connection| {
                connection
                    .execute(
                        "UPDATE queue_messages SET visible_at = ?2, in_flight = 0 WHERE queue = ?1 AND in_flight = 1",
                        params![name, now],
                    )
                    .map_err(backend)
            })
            .await
            .map_err(queue_error)?;
        if recovered > 0 {
            self.wake.notify_waiters();
        }
        Ok(recovered as u64)
    }
}

/// Messages a receiver takes at most (SQS's batch).
const RECEIVE_BATCH: usize = 10;

/// A queue's visible messages, oldest first.
const RECEIVABLE: &str = "SELECT id, body, receive_count, sent_at, reason FROM queue_messages \
     WHERE queue = ?1 AND visible_at <= ?2 ORDER BY visible_at, id LIMIT ?3";

/// Receives up to `max` visible messages in one transaction; also answers when the next
/// hidden message becomes visible, so an empty receive knows how long it may sleep.
fn receive_now(
    connection: &Connection,
    settings: &QueueSettings,
    max: usize,
) -> Result<(Vec<ReceivedMessage>, Option<i64>), StoreError> {
    let now = Timestamp::now().as_millis();
    let hidden_until = now + settings.visibility_timeout.as_millis() as i64;
    let mut received = Vec::new();
    let redrive = settings.max_receive_count.zip(settings.dead_letter_queue.as_deref());
    loop {
        let candidates: Vec<(i64, String, u32, i64, Option<String>)> = connection
            .prepare_cached(RECEIVABLE)
            .map_err(backend)?
            .query_map(params![settings.name, now, (max - received.len()) as i64], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
            })
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)?;
        if candidates.is_empty() {
            break;
        }
        let mut moved_any = false;
        for (id, body, receive_count, sent_at, reason) in candidates {
            if let Some((max_receives, dead_letter_queue)) = redrive
                && receive_count >= max_receives
            {
                // Handlers park what they cannot handle themselves; this one was received
                // that often without an answer (its handler crashed or ran out of time).
                let reason = format!("received {receive_count} times without being handled (redrive)");
                connection
                    .prepare_cached(
                        "UPDATE queue_messages SET queue = ?2, receive_count = 0, visible_at = ?3, in_flight = 0, \
                         reason = COALESCE(reason, ?4) WHERE id = ?1",
                    )
                    .map_err(backend)?
                    .execute(params![id, dead_letter_queue, now, reason])
                    .map_err(backend)?;
                moved_any = true;
                continue;
            }
            connection
                .prepare_cached(
                    "UPDATE queue_messages SET receive_count = receive_count + 1, visible_at = ?2, in_flight = 1 WHERE id = ?1",
                )
                .map_err(backend)?
                .execute(params![id, hidden_until])
                .map_err(backend)?;
            received.push(ReceivedMessage {
                message_id: id.to_string(),
                receipt: format!("{id}.{}", receive_count + 1),
                body,
                receive_count: receive_count + 1,
                sent_at: Timestamp::from_millis(sent_at),
                reason,
            });
        }
        if !moved_any || received.len() >= max {
            break;
        }
    }
    let next_visible = if received.is_empty() { next_visible(connection, &settings.name)? } else { None };
    Ok((received, next_visible))
}

/// When the queue's next message is (or was) visible, in milliseconds; `None` if it is empty.
fn next_visible(connection: &Connection, queue: &str) -> Result<Option<i64>, StoreError> {
    Ok(connection
        .prepare_cached("SELECT MIN(visible_at) FROM queue_messages WHERE queue = ?1")
        .map_err(backend)?
        .query_row(params![queue], |row| row.get::<_, Option<i64>>(0))
        .optional()
        .map_err(backend)?
        .flatten())
}

impl SqliteQueue {
    /// Inserts `bodies`, visible `delay` from now, each with `reason` if given.
    async fn insert(&self, bodies: Vec<String>, delay: Duration, reason: Option<String>) -> Result<(), QueueError> {
        if bodies.is_empty() {
            return Ok(());
        }
        let name = self.settings.name.clone();
        let count = bodies.len();
        let delay = delay.min(MAX_SEND_DELAY).as_millis() as i64;
        self.db
            .write(move |connection| {
                let now = Timestamp::now().as_millis();
                let mut insert = connection
                    .prepare_cached(
                        "INSERT INTO queue_messages (queue, body, sent_at, visible_at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(backend)?;
                for body in bodies {
                    insert.execute(params![name, body, now, now + delay, reason]).map_err(backend)?;
                }
                Ok(())
            })
            .await
            .map_err(queue_error)?;
        // A receiver per batch's worth, so that a burst is received by several at once.
        for _ in 0..count.div_ceil(RECEIVE_BATCH) {
            self.wake.notify_one();
        }
        Ok(())
    }
}

impl Queue for SqliteQueue {
    async fn send_batch(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        self.insert(bodies, Duration::ZERO, None).await
    }

    async fn send_delayed(&self, body: String, delay: Duration) -> Result<(), QueueError> {
        self.insert(vec![body], delay, None).await
    }

    async fn park(&self, body: String, reason: &str) -> Result<(), QueueError> {
        self.insert(vec![body], Duration::ZERO, Some(cut_reason(reason).to_owned())).await
    }

    async fn peek(&self, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        let name = self.settings.name.clone();
        let max = max.clamp(1, 10) as i64;
        self.db
            .read(move |connection| {
                connection
                    .prepare_cached(
                        "SELECT id, body, receive_count, sent_at, reason FROM queue_messages \
                         WHERE queue = ?1 ORDER BY id LIMIT ?2",
                    )
                    .map_err(backend)?
                    .query_map(params![name, max], |row| {
                        let id: i64 = row.get(0)?;
                        let receive_count: u32 = row.get(2)?;
                        Ok(ReceivedMessage {
                            message_id: id.to_string(),
                            // Not a receive: no receipt deletes or hides anything.
                            receipt: String::new(),
                            body: row.get(1)?,
                            receive_count,
                            sent_at: Timestamp::from_millis(row.get(3)?),
                            reason: row.get(4)?,
                        })
                    })
                    .map_err(backend)?
                    .collect::<Result<_, _>>()
                    .map_err(backend)
            })
            .await
            .map_err(queue_error)
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let name = self.settings.name.clone();
        self.db
            .read(move |connection| {
                connection
                    .query_row("SELECT COUNT(*) FROM queue_messages WHERE queue = ?1", params![name], |row| row.get(0))
                    .map_err(backend)
            })
            .await
            .map_err(queue_error)
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        let deadline = Instant::now() + wait;
        loop {
            // Registered before looking, so a send between the look and the sleep still wakes us.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Looked at first on a read connection: a receive that finds nothing (the poller's
            // look after each batch, a receiver woken for a message another took) is then no
            // write transaction, and the writer's time goes to the pipeline.
            let name = &self.settings.name;
            let first_visible = self.db.look_up(|connection| next_visible(connection, name)).map_err(queue_error)?;
            let (messages, next_visible) = match first_visible {
                Some(at) if at <= Timestamp::now().as_millis() => {
                    let settings = self.settings.clone();
                    self.db
                        .write(move |connection| receive_now(connection, &settings, max.max(1)))
                        .await
                        .map_err(queue_error)?
                }
                _ => (Vec::new(), first_visible),
            };
            let now = Instant::now();
            if messages.len() >= max {
                // There may be more: the next receiver looks too.
                self.wake.notify_one();
            }
            if !messages.is_empty() || now >= deadline {
                return Ok(messages);
            }
            let mut wake_at = deadline;
            if let Some(visible_at) = next_visible {
                let in_ms = (visible_at - Timestamp::now().as_millis()).max(1) as u64;
                wake_at = wake_at.min(now + Duration::from_millis(in_ms));
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    async fn delete_batch(&self, receipts: Vec<String>) -> Result<(), QueueError> {
        let handles: Vec<(i64, u32)> = receipts.iter().filter_map(|r| parse_receipt(r)).collect();
        if handles.is_empty() {
            return Ok(());
        }
        // Not deferred to share a later transaction: until it commits, a crash brings the
        // message back, and the step it finished (a fan-out, a delivery) would run twice.
        self.db
            .write(move |connection| {
                let mut delete = connection
                    .prepare_cached("DELETE FROM queue_messages WHERE id = ?1 AND receive_count = ?2")
                    .map_err(backend)?;
                for (id, count) in handles {
                    delete.execute(params![id, count]).map_err(backend)?;
                }
                Ok(())
            })
            .await
            .map_err(queue_error)
    }

    async fn change_visibility(&self, receipt: &str, hidden_for: Duration) -> Result<(), QueueError> {
        let Some((id, count)) = parse_receipt(receipt) else {
            return Ok(());
        };
        let visible_at = Timestamp::now().plus(hidden_for).as_millis();
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached(
                        "UPDATE queue_messages SET visible_at = ?3, in_flight = 0 WHERE id = ?1 AND receive_count = ?2",
                    )
                    .map_err(backend)?
                    .execute(params![id, count, visible_at])
                    .map_err(backend)?;
                Ok(())
            })
            .await
            .map_err(queue_error)?;
        self.wake.notify_one();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    fn queue(db: &SqliteDatabase) -> SqliteQueue {
        db.queue(QueueSettings {
            name: "q".into(),
            visibility_timeout: Duration::from_secs(30),
            max_receive_count: None,
            dead_letter_queue: None,
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_reaches_every_waiting_receiver() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
        let queue = queue(&db);
        // Four receivers wait; 40 messages arrive at once: each receiver gets a full batch
        // (the first wakes the next), none sleeps through the burst.
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.receive(10, Duration::from_secs(20)).await.unwrap().len() })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        queue.send_batch((0..40).map(|n| format!("m{n}")).collect()).await.unwrap();
        for receiver in receivers {
            let got = tokio::time::timeout(Duration::from_secs(10), receiver).await;
            assert_eq!(got.expect("every receiver woke for the burst").unwrap(), 10);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_receive_that_finds_nothing_waits_for_no_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
        let queue = queue(&db);
        queue.send_delayed("later".into(), Duration::from_secs(60)).await.unwrap();
        // The writer is busy until the receives below have answered.
        let (release, busy) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let db = db.clone();
            async move { db.write(move |_| Ok(busy.recv().ok())).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let empty = tokio::time::timeout(Duration::from_secs(5), queue.receive(10, Duration::ZERO)).await;
        assert!(empty.expect("an empty receive answered while the writer was busy").unwrap().is_empty());
        let other = db.queue(QueueSettings { name: "empty".into(), ..queue.settings.as_ref().clone() });
        let empty = tokio::time::timeout(Duration::from_secs(5), other.receive(10, Duration::ZERO)).await;
        assert!(empty.expect("a receive of an empty queue answered while the writer was busy").unwrap().is_empty());
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn receiving_prepares_its_statement_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
        let queue = queue(&db);
        for n in 0..5 {
            queue.send_batch(vec![format!("m{n}")]).await.unwrap();
            // Another time and another limit bound each time.
            assert_eq!(queue.receive(n + 1, Duration::ZERO).await.unwrap().len(), 1);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let reprepared = db
            .write(|connection| {
                let statement = connection.prepare_cached(RECEIVABLE).map_err(backend)?;
                Ok(statement.get_status(StatementStatus::RePrepare))
            })
            .await
            .unwrap();
        assert_eq!(reprepared, 0);
    }
}
