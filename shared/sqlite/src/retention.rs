//! Retention on the embedded backend, as DynamoDB's TTL does it on AWS: events and deliveries
//! (with their attempts) older than the retention are deleted, expired idempotency keys and
//! portal sessions, and delivery counts older than theirs (`STATS_RETENTION`). In small transactions, each
//! one more job in the writer's group commit, so the pruning never holds the writer for long.

use std::time::Duration;

use rusqlite::{Connection, params};
use tokio::sync::watch;

use super::{SqliteDatabase, backend};
use webhooks::deliveries::stats::STATS_RETENTION;
use webhooks::ports::{ErrorChain, StoreError};
use webhooks::time::Timestamp;

/// Rows of each kind deleted per transaction.
pub const PRUNE_BATCH: usize = 500;
/// The pause between two pruning transactions, which lets other writes through.
const PAUSE: Duration = Duration::from_millis(20);

/// What one pruning pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub events: usize,
    pub deliveries: usize,
}

/// How often the pruner looks: a tenth of the retention, at most once a minute.
pub fn prune_interval(retention: Duration) -> Duration {
    (retention / 10).clamp(Duration::from_millis(100), Duration::from_secs(60))
}

impl SqliteDatabase {
    /// Deletes at most `batch` deliveries (with their attempts) and `batch` events created
    /// before `cutoff`, in one transaction.
    pub async fn prune_batch(&self, cutoff: Timestamp, batch: usize) -> Result<Pruned, StoreError> {
        self.write(move |connection| {
            let cutoff = cutoff.as_millis();
            let ids: Vec<String> = connection
                .prepare_cached("SELECT id FROM deliveries WHERE created_at < ?1 ORDER BY created_at LIMIT ?2")
                .map_err(backend)?
                .query_map(params![cutoff, batch as i64], |row| row.get(0))
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            for id in &ids {
                connection
                    .prepare_cached("DELETE FROM attempts WHERE delivery_id = ?1")
                    .map_err(backend)?
                    .execute([id])
                    .map_err(backend)?;
                connection
                    .prepare_cached("DELETE FROM deliveries WHERE id = ?1")
                    .map_err(backend)?
                    .execute([id])
                    .map_err(backend)?;
            }
            let events = delete_older(
                connection,
                "DELETE FROM events WHERE (tenant, id) IN \
                 (SELECT tenant, id FROM events WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)",
                cutoff,
                batch,
            )?;
            let now = Timestamp::now();
            // Idempotency keys and portal sessions past their own expiry, and delivery counts
            // past their own retention, whatever the events'.
            for (delete, before) in [
                (
                    "DELETE FROM idempotency_keys WHERE rowid IN \
                     (SELECT rowid FROM idempotency_keys WHERE expires_at < ?1 LIMIT ?2)",
                    now,
                ),
                (
                    "DELETE FROM portal_sessions WHERE id IN \
                     (SELECT id FROM portal_sessions WHERE expires_at < ?1 LIMIT ?2)",
                    now,
                ),
                (
                    "DELETE FROM delivery_stats WHERE (tenant, endpoint_id, hour) IN \
                     (SELECT tenant, endpoint_id, hour FROM delivery_stats WHERE hour < ?1 LIMIT ?2)",
                    now.minus(STATS_RETENTION),
                ),
            ] {
                delete_older(connection, delete, before.as_millis(), batch)?;
            }
            Ok(Pruned { events, deliveries: ids.len() })
        })
        .await
    }

    /// Deletes everything created before `cutoff`, batch by batch, pausing between batches.
    pub async fn prune(&self, cutoff: Timestamp) -> Result<Pruned, StoreError> {
        let mut total = Pruned::default();
        loop {
            let pruned = self.prune_batch(cutoff, PRUNE_BATCH).await?;
            total.events += pruned.events;
            total.deliveries += pruned.deliveries;
            if pruned.events < PRUNE_BATCH && pruned.deliveries < PRUNE_BATCH {
                return Ok(total);
            }
            tokio::time::sleep(PAUSE).await;
        }
    }
}

/// Runs `delete`, a statement of at most `?2` rows older than `?1`: `before` (ms) and `batch`;
/// answers how many it deleted.
fn delete_older(connection: &Connection, delete: &str, before: i64, batch: usize) -> Result<usize, StoreError> {
    connection.prepare_cached(delete).map_err(backend)?.execute(params![before, batch as i64]).map_err(backend)
}

/// Prunes what is older than `retention`, every [`prune_interval`], until `shutdown`.
pub async fn run_retention(db: SqliteDatabase, retention: Duration, mut shutdown: watch::Receiver<bool>) {
    loop {
        let cutoff = Timestamp::now().minus(retention);
        match db.prune(cutoff).await {
            Ok(pruned) if pruned != Pruned::default() => {
                tracing::info!(events = pruned.events, deliveries = pruned.deliveries, "retention: pruned");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %ErrorChain(&error), "retention: pruning failed; trying again later"),
        }
        tokio::select! {
            _ = tokio::time::sleep(prune_interval(retention)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}
