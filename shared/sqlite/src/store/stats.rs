//! The [`StatsStore`] port on SQLite: one row per endpoint and hour, added to in place.

use super::*;
use webhooks::deliveries::stats::{DeliveryCounts, StatsStore};

impl StatsStore for SqliteStore {
    async fn add_delivery_counts(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        hour: Timestamp,
        counts: DeliveryCounts,
    ) -> Result<(), StoreError> {
        let (tenant, endpoint_id) = (tenant.to_owned(), endpoint_id.to_string());
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached(
                        "INSERT INTO delivery_stats (tenant, endpoint_id, hour, delivered, retrying, failed) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                         ON CONFLICT (tenant, endpoint_id, hour) DO UPDATE SET \
                         delivered = delivered + excluded.delivered, retrying = retrying + excluded.retrying, \
                         failed = failed + excluded.failed",
                    )
                    .map_err(backend)?
                    .execute(params![
                        tenant,
                        endpoint_id,
                        hour.as_millis(),
                        counts.delivered as i64,
                        counts.retrying as i64,
                        counts.failed as i64,
                    ])
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn delivery_counts(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, DeliveryCounts)>, StoreError> {
        let (tenant, endpoint_id) = (tenant.to_owned(), endpoint_id.to_string());
        self.db
            .read(move |connection| {
                connection
                    .prepare_cached(
                        "SELECT hour, delivered, retrying, failed FROM delivery_stats \
                         WHERE tenant = ?1 AND endpoint_id = ?2 AND hour >= ?3 AND hour < ?4 ORDER BY hour",
                    )
                    .map_err(backend)?
                    .query_map(params![tenant, endpoint_id, from.as_millis(), to.as_millis()], |row| {
                        let count = |n: usize| row.get::<_, i64>(n).map(|v| v.max(0) as u64);
                        Ok((
                            Timestamp::from_millis(row.get(0)?),
                            DeliveryCounts { delivered: count(1)?, retrying: count(2)?, failed: count(3)? },
                        ))
                    })
                    .map_err(backend)?
                    .collect::<Result<_, _>>()
                    .map_err(backend)
            })
            .await
    }
}
