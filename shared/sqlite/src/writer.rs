//! Group commit: one thread owns the write connection; every write request that arrives
//! while a commit is in progress joins the next transaction, so many requests share one
//! fsync. Each request runs inside its own savepoint, so one failing request rolls back alone.
//!
//! A request is durable (its transaction is fsync'd before it is answered) or relaxed
//! (committed to the WAL, which the OS holds: a killed process loses nothing, a power cut
//! may lose the last relaxed transactions, never one before a durable one, since the WAL
//! is replayed in order up to its last synced frame). A group with any durable request is
//! synced whole.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use webhooks::ports::{BackendError, ErrorChain, StoreError};

/// Most requests committed together; bounds the latency one transaction adds.
const MAX_GROUP: usize = 1024;

type Completion = Box<dyn FnOnce(Result<(), BackendError>) + Send>;
type Work = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

/// A request: its work, and whether its commit must be fsync'd.
struct Job {
    work: Work,
    durable: bool,
}

pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(crate) fn spawn(connection: Connection) -> Self {
        let (jobs, incoming) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(connection, incoming))
            .expect("spawn the SQLite writer thread");
        Self { jobs }
    }

    /// Runs `work` in the next group transaction; resolves once that transaction is
    /// committed, and fsync'd if `durable`.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        durable: bool,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |connection| {
            let result = catch_unwind(AssertUnwindSafe(|| work(connection)))
                .unwrap_or_else(|_| Err(StoreError::Backend("a write panicked".into())));
            let succeeded = result.is_ok();
            let completion: Completion = Box::new(move |commit| {
                let outcome = commit.map_err(StoreError::Backend).and(result);
                let _ = reply.send(outcome);
            });
            (succeeded, completion)
        });
        self.jobs
            .send(Job { work, durable })
            .map_err(|_| StoreError::Backend("the SQLite writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Backend("the SQLite writer dropped a request".into()))?
    }
}

fn run(connection: Connection, incoming: mpsc::Receiver<Job>) {
    // What the connection's `synchronous` is: FULL (fsync on commit) as opened.
    let mut syncing = true;
    while let Ok(first) = incoming.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match incoming.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let durable = group.iter().any(|job| job.durable);
        if durable != syncing {
            // Read at commit: NORMAL commits to the WAL without an fsync.
            let pragma = if durable { "PRAGMA synchronous = FULL" } else { "PRAGMA synchronous = NORMAL" };
            match connection.execute_batch(pragma) {
                Ok(()) => syncing = durable,
                Err(e) => tracing::error!(error = %ErrorChain(&e), "could not set synchronous"),
            }
        }
        if let Err(e) = statement(&connection, "BEGIN IMMEDIATE") {
            // Dropping the jobs answers each caller with an error; none of them ran.
            tracing::error!(error = %ErrorChain(&e), "could not begin a write transaction");
            continue;
        }
        let alone = group.len() == 1;
        let completions: Vec<Completion> = group.into_iter().map(|job| run_one(&connection, job, alone)).collect();
        let commit = statement(&connection, "COMMIT").map_err(|e| BackendError::caused_by("COMMIT", e));
        if commit.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        for complete in completions {
            complete(commit.clone());
        }
    }
}

/// Runs a statement without parameters, prepared once.
fn statement(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs one request inside a savepoint, rolled back if the request failed; a request alone in
/// its transaction needs none (the transaction is its savepoint).
fn run_one(connection: &Connection, job: Job, alone: bool) -> Completion {
    if alone {
        let (succeeded, complete) = (job.work)(connection);
        if !succeeded {
            // Undo its writes; COMMIT then commits nothing.
            let _ = connection.execute_batch("ROLLBACK; BEGIN IMMEDIATE");
        }
        return complete;
    }
    let _ = statement(connection, "SAVEPOINT request");
    let (succeeded, complete) = (job.work)(connection);
    if succeeded {
        let _ = statement(connection, "RELEASE request");
    } else {
        let _ = connection.execute_batch("ROLLBACK TO request; RELEASE request");
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synchronous(connection: &Connection) -> Result<i64, StoreError> {
        connection
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .map_err(|e| StoreError::Backend(BackendError::caused_by("PRAGMA", e)))
    }

    #[tokio::test]
    async fn a_relaxed_group_commits_without_fsync_and_a_durable_one_with() {
        let dir = tempfile::tempdir().unwrap();
        let connection = Connection::open(dir.path().join("db")).unwrap();
        connection.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;").unwrap();
        let writer = Writer::spawn(connection);
        // 2 is FULL (fsync at each commit), 1 NORMAL (the WAL synced at checkpoints only).
        assert_eq!(writer.write(true, synchronous).await.unwrap(), 2);
        assert_eq!(writer.write(false, synchronous).await.unwrap(), 1);
        assert_eq!(writer.write(true, synchronous).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_failed_request_leaves_nothing_alone_or_in_a_group() {
        let dir = tempfile::tempdir().unwrap();
        let connection = Connection::open(dir.path().join("db")).unwrap();
        connection.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER);").unwrap();
        let writer = Writer::spawn(connection);
        let fail = |n: i64| {
            move |connection: &Connection| {
                connection.execute("INSERT INTO t VALUES (?1)", [n]).unwrap();
                Err::<(), _>(StoreError::NotFound)
            }
        };
        let insert = |n: i64| {
            move |connection: &Connection| {
                connection.execute("INSERT INTO t VALUES (?1)", [n]).map(|_| ()).map_err(|_| StoreError::NotFound)
            }
        };
        assert!(writer.write(true, fail(1)).await.is_err());
        let (a, b, c) =
            tokio::join!(writer.write(false, insert(2)), writer.write(false, fail(3)), writer.write(true, insert(4)));
        assert!(a.is_ok() && b.is_err() && c.is_ok());
        let rows: Vec<i64> = writer
            .write(false, |connection| {
                let mut statement = connection.prepare("SELECT n FROM t ORDER BY n").unwrap();
                Ok(statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect())
            })
            .await
            .unwrap();
        assert_eq!(rows, [2, 4]);
    }
}
