//! The embedded backend: store and queues in one SQLite file (WAL mode, fsync on commit).
//!
//! Writes go through one writer thread that commits concurrent requests together
//! ([`writer`]); reads use a small pool of read connections, which WAL lets run beside it.
//! What the API writes is fsync'd before it answers; what the pipeline writes after that
//! (fan-out, receives, deletes, delivery records) may be relaxed ([`SqliteDatabase::relaxed`]):
//! a killed process loses none of it, a power cut at most its last steps, which are then
//! redone from the durable state before them (a delivery may then be sent again, as
//! at-least-once allows).

mod queue;
mod retention;
mod store;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::Notify;

pub use queue::{QueueSettings, SqliteQueue};
pub use retention::{PRUNE_BATCH, Pruned, prune_interval, run_retention};
pub use store::SqliteStore;

use webhooks::ports::{BackendError, StoreError};
use writer::Writer;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS endpoints (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    event_filters TEXT NOT NULL,
    description TEXT,
    headers TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    failure_count INTEGER NOT NULL,
    disabled_reason TEXT,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    rate_limit INTEGER,
    metadata TEXT,
    uid TEXT,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscription_versions (
    tenant TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    tenant TEXT NOT NULL,
    pattern TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    PRIMARY KEY (tenant, pattern, endpoint_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    entity_id TEXT,
    payload TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    attempts INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER,
    next_retry_at INTEGER,
    last_error TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_by_endpoint ON deliveries (tenant, endpoint_id, id);
CREATE INDEX IF NOT EXISTS deliveries_by_tenant ON deliveries (tenant, id);
CREATE TABLE IF NOT EXISTS attempts (
    delivery_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    http_status INTEGER,
    response_body TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS attempts_by_delivery ON attempts (delivery_id);
CREATE INDEX IF NOT EXISTS deliveries_by_age ON deliveries (created_at);
CREATE INDEX IF NOT EXISTS events_by_age ON events (created_at);
CREATE INDEX IF NOT EXISTS events_by_tenant ON events (tenant, created_at, id);
-- The disabled endpoints alone, counted at each metrics scrape.
CREATE INDEX IF NOT EXISTS endpoints_disabled ON endpoints (tenant, id) WHERE enabled = 0;
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS portal_sessions (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    endpoints TEXT,
    read_only INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    token_hash TEXT NOT NULL UNIQUE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS portal_sessions_by_tenant ON portal_sessions (tenant);
CREATE INDEX IF NOT EXISTS portal_sessions_by_expiry ON portal_sessions (expires_at);
CREATE TABLE IF NOT EXISTS event_types (
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    family TEXT,
    schema TEXT,
    archived INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    locked_until INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
);
CREATE TABLE IF NOT EXISTS delivery_stats (
    tenant TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    delivered INTEGER NOT NULL,
    retrying INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    PRIMARY KEY (tenant, endpoint_id, hour)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS delivery_stats_by_age ON delivery_stats (hour);
CREATE TABLE IF NOT EXISTS queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    in_flight INTEGER NOT NULL DEFAULT 0,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at, id);
"#;

/// Read connections kept open between reads.
const READ_POOL: usize = 8;

/// One SQLite file holding the store and every queue.
#[derive(Clone)]
pub struct SqliteDatabase {
    inner: Arc<Inner>,
    /// Whether this handle's writes are fsync'd before they are answered.
    durable: bool,
}

struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    /// Per queue, woken when a message is sent, so receivers need not poll.
    wake: Mutex<HashMap<String, Arc<Notify>>>,
}

/// Brings a database made by an earlier version up to [`SCHEMA`]: columns added since are
/// added to it, then the indexes over them are made.
fn migrate(connection: &Connection) -> Result<(), StoreError> {
    for (table, column, definition) in [
        ("endpoints", "rate_limit", "INTEGER"),
        ("endpoints", "metadata", "TEXT"),
        ("endpoints", "uid", "TEXT"),
        ("queue_messages", "reason", "TEXT"),
    ] {
        let exists = connection
            .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")
            .and_then(|mut statement| statement.exists(params![table, column]))
            .map_err(backend)?;
        if !exists {
            connection
                .execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {definition}"))
                .map_err(backend)?;
        }
    }
    // A uid is unique per tenant (NULLs, endpoints without one, are distinct to SQLite).
    connection
        .execute_batch("CREATE UNIQUE INDEX IF NOT EXISTS endpoints_by_uid ON endpoints (tenant, uid);")
        .map_err(backend)
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(BackendError::caused_by("SQLite", e))
}

impl SqliteDatabase {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(backend)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = FULL;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(backend)?;
        connection.execute_batch(SCHEMA).map_err(backend)?;
        migrate(&connection)?;
        tune(&connection)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Writer::spawn(connection),
                readers: Mutex::new(Vec::new()),
                wake: Mutex::new(HashMap::new()),
            }),
            durable: true,
        })
    }

    /// The same database, through a handle whose writes are committed without waiting for an
    /// fsync (unless a durable write shares their transaction): for the pipeline's steps
    /// after an accepted event, which a power cut can only make it redo. Killing the process
    /// loses none of them.
    pub fn relaxed(&self) -> Self {
        Self { inner: self.inner.clone(), durable: false }
    }

    pub fn store(&self) -> SqliteStore {
        SqliteStore::new(self.clone())
    }

    pub fn queue(&self, settings: QueueSettings) -> SqliteQueue {
        SqliteQueue::new(self.clone(), settings)
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.inner.writer.write(self.durable, work).await
    }

    pub(crate) async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.look_up(work))
            .await
            .map_err(|e| StoreError::Backend(BackendError::caused_by("a read task failed", e)))?
    }

    /// A point lookup by key, run on the calling thread with a pooled read connection: from
    /// SQLite's page cache it takes microseconds, less than handing it to the blocking pool
    /// and waking the caller again (the hot path makes several per delivery). Only for reads
    /// of a few rows by an index; anything that may scan goes through [`Self::read`].
    pub(crate) fn look_up<T>(&self, work: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.inner.readers.lock().expect("reader pool").pop();
        let connection = match pooled {
            Some(connection) => connection,
            None => open_reader(&self.inner.path)?,
        };
        let result = work(&connection);
        let mut readers = self.inner.readers.lock().expect("reader pool");
        if readers.len() < READ_POOL {
            readers.push(connection);
        }
        result
    }

    pub(crate) fn wake_handle(&self, queue: &str) -> Arc<Notify> {
        self.inner.wake.lock().expect("wake map").entry(queue.to_owned()).or_default().clone()
    }
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let connection =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(backend)?;
    connection.execute_batch("PRAGMA busy_timeout = 5000;").map_err(backend)?;
    tune(&connection)?;
    Ok(connection)
}

/// Statements prepared once: cached, and kept to the plan they were prepared with. The
/// bundled SQLite (built with STAT4) otherwise prepares again a statement whose plan may
/// depend on a bound value (`visible_at <= ?`, `LIMIT ?`) each time that value changes: the
/// queue's receive did, about 6% of the CPU flat out.
fn tune(connection: &Connection) -> Result<(), StoreError> {
    connection.set_prepared_statement_cache_capacity(64);
    connection.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(backend)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhooks::endpoints::store::EndpointStore;
    use webhooks::ids::EndpointId;
    use webhooks::queues::Queue;
    use webhooks::time::Timestamp;

    #[test]
    fn a_failure_keeps_sqlites_error_as_its_cause() {
        // A directory is no database file.
        let Err(error) = SqliteDatabase::open(&std::env::temp_dir()) else { panic!("opened a directory") };
        let cause = std::error::Error::source(&error).and_then(|backend| backend.source()).expect("a cause");
        assert!(cause.downcast_ref::<rusqlite::Error>().is_some(), "{cause:?}");
        let chain = webhooks::ports::ErrorChain(&error).to_string();
        assert!(chain.starts_with("storage backend: SQLite: ") && chain.len() > 25, "{chain}");
    }

    #[tokio::test]
    async fn a_database_from_before_rate_limits_metadata_uids_and_reasons_opens_and_reads_back() {
        let path = std::env::temp_dir().join(format!("webhooks-migrate-{}.sqlite3", Timestamp::now().as_millis()));
        let id = EndpointId::generate(Timestamp::now());
        {
            let old = Connection::open(&path).unwrap();
            let schema = SCHEMA
                .replace("    rate_limit INTEGER,\n", "")
                .replace("    metadata TEXT,\n", "")
                .replace("    uid TEXT,\n", "")
                .replace(",\n    reason TEXT", "");
            assert!(
                !schema.contains("metadata") && !schema.contains("rate_limit") && !schema.contains("uid"),
                "the old schema has none of them"
            );
            old.execute_batch(&schema).unwrap();
            old.execute(
                "INSERT INTO queue_messages (queue, body, sent_at, visible_at) VALUES ('events-dlq', 'old', 0, 0)",
                [],
            )
            .unwrap();
            old.execute(
                "INSERT INTO endpoints VALUES ('acme', ?1, 'https://example.com', '[\"run.failed\"]', '{}', NULL, \
                 '{}', 1, 0, NULL, 'secret', NULL, NULL, 0, 0, 0)",
                [id.to_string()],
            )
            .unwrap();
        }
        let db = SqliteDatabase::open(&path).unwrap();
        let endpoint = db.store().get_endpoint("acme", &id).await.unwrap();
        assert_eq!((endpoint.url.as_str(), endpoint.rate_limit), ("https://example.com", None));
        assert!(endpoint.metadata.is_empty());
        let metadata = std::collections::BTreeMap::from([("customer".to_owned(), "c_1".to_owned())]);
        let uid = Some("customer-1".to_owned());
        let limited = webhooks::endpoints::Endpoint {
            rate_limit: Some(7),
            metadata: metadata.clone(),
            uid: uid.clone(),
            ..endpoint
        };
        db.store().update_endpoint(&limited).await.unwrap();
        let read = db.store().get_endpoint("acme", &id).await.unwrap();
        assert_eq!((read.rate_limit, read.metadata, read.uid), (Some(7), metadata, uid));
        assert_eq!(db.store().find_endpoint_by_uid("acme", "customer-1").await.unwrap().id, id);
        let dead_letters = db.queue(QueueSettings {
            name: "events-dlq".into(),
            visibility_timeout: std::time::Duration::from_secs(30),
            max_receive_count: None,
            dead_letter_queue: None,
        });
        dead_letters.park("new".into(), "a reason").await.unwrap();
        let parked: Vec<_> = dead_letters.peek(10).await.unwrap().into_iter().map(|m| (m.body, m.reason)).collect();
        assert_eq!(parked, [("old".into(), None), ("new".into(), Some("a reason".into()))]);
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
