//! Group commit: one thread owns the write connection; every write request that arrives
//! while a commit is in progress joins the next transaction, so many requests share one
//! fsync. Each request runs inside its own savepoint, so one failing request rolls back alone.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use webhooks::ports::{BackendError, ErrorChain, StoreError};

/// Most requests committed together; bounds the latency one transaction adds.
const MAX_GROUP: usize = 1024;

type Completion = Box<dyn FnOnce(Result<(), BackendError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

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

    /// Runs `work` in the next group transaction; resolves once that transaction is durable.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = catch_unwind(AssertUnwindSafe(|| work(connection)))
                .unwrap_or_else(|_| Err(StoreError::Backend("a write panicked".into())));
            let succeeded = result.is_ok();
            let completion: Completion = Box::new(move |commit| {
                let outcome = commit.map_err(StoreError::Backend).and(result);
                let _ = reply.send(outcome);
            });
            (succeeded, completion)
        });
        self.jobs.send(job).map_err(|_| StoreError::Backend("the SQLite writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Backend("the SQLite writer dropped a request".into()))?
    }
}

fn run(connection: Connection, incoming: mpsc::Receiver<Job>) {
    while let Ok(first) = incoming.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match incoming.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = connection.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs answers each caller with an error; none of them ran.
            tracing::error!(error = %ErrorChain(&e), "could not begin a write transaction");
            continue;
        }
        let completions: Vec<Completion> = group.into_iter().map(|job| run_one(&connection, job)).collect();
        let commit = connection.execute_batch("COMMIT").map_err(|e| BackendError::caused_by("COMMIT", e));
        if commit.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        for complete in completions {
            complete(commit.clone());
        }
    }
}

/// Runs one request inside a savepoint, rolled back if the request failed.
fn run_one(connection: &Connection, job: Job) -> Completion {
    let _ = connection.execute_batch("SAVEPOINT request");
    let (succeeded, complete) = job(connection);
    let end = if succeeded { "RELEASE request" } else { "ROLLBACK TO request; RELEASE request" };
    let _ = connection.execute_batch(end);
    complete
}
