//! The [`EndpointStore`] port on SQLite: endpoints: their configuration, subscriptions and failure counts.

use super::*;

impl EndpointStore for SqliteStore {
    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let endpoint = endpoint.clone();
        self.db
            .write(move |connection| {
                check_uid_free(connection, &endpoint.tenant, endpoint.uid.as_deref(), endpoint.id.as_str())?;
                let sql = format!("INSERT INTO endpoints ({ENDPOINT_COLUMNS}) VALUES ({})", endpoint_placeholders());
                let inserted = connection
                    .prepare_cached(&sql)
                    .map_err(backend)?
                    .execute(params_from_iter(endpoint_values(&endpoint)));
                match inserted {
                    Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                        return Err(StoreError::Conflict("an endpoint with this id exists".into()));
                    }
                    other => other.map_err(backend)?,
                };
                write_subscriptions(connection, &endpoint)
            })
            .await
    }

    async fn get_endpoint(&self, tenant: &str, id: &EndpointId) -> Result<Endpoint, StoreError> {
        self.db.look_up(|connection| select_endpoint(connection, tenant, id.as_str())?.ok_or(StoreError::NotFound))
    }

    async fn find_endpoint_by_uid(&self, tenant: &str, uid: &str) -> Result<Endpoint, StoreError> {
        let (tenant, uid) = (tenant.to_owned(), uid.to_owned());
        self.db
            .read(move |connection| select_endpoint_by(connection, "uid", &tenant, &uid)?.ok_or(StoreError::NotFound))
            .await
    }

    async fn count_endpoints(&self, tenant: &str, at_most: usize) -> Result<usize, StoreError> {
        let (tenant, at_most) = (tenant.to_owned(), i64::try_from(at_most).unwrap_or(i64::MAX));
        self.db
            .read(move |connection| {
                let counted: i64 = connection
                    .prepare_cached("SELECT COUNT(*) FROM (SELECT 1 FROM endpoints WHERE tenant = ?1 LIMIT ?2)")
                    .map_err(backend)?
                    .query_row(params![tenant, at_most], |row| row.get(0))
                    .map_err(backend)?;
                Ok(counted as usize)
            })
            .await
    }

    async fn list_endpoints(&self, tenant: &str, query: &EndpointQuery) -> Result<Page<Endpoint>, StoreError> {
        let tenant = tenant.to_owned();
        let after = query.after.as_ref().map(|id| id.to_string()).unwrap_or_default();
        let limit = query.limit;
        self.db
            .read(move |connection| {
                let sql = format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE tenant = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
                );
                let items = connection
                    .prepare_cached(&sql)
                    .map_err(backend)?
                    .query_map(params![tenant, after, limit as i64 + 1], endpoint_from_row)
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(into_page(items, limit, |e| e.id.as_str()))
            })
            .await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<Endpoint, StoreError> {
        let mut updated = endpoint.clone();
        self.db
            .write(move |connection| {
                let stored =
                    select_endpoint(connection, &updated.tenant, updated.id.as_str())?.ok_or(StoreError::NotFound)?;
                if stored.version != updated.version {
                    return Err(StoreError::Conflict("the endpoint changed since it was read".into()));
                }
                check_uid_free(connection, &updated.tenant, updated.uid.as_deref(), updated.id.as_str())?;
                updated.version += 1;
                // An UPDATE, not a REPLACE: a REPLACE would delete another row that a unique
                // index says it collides with.
                let sql = format!("UPDATE endpoints SET {} WHERE tenant = ?1 AND id = ?2", endpoint_assignments());
                connection
                    .prepare_cached(&sql)
                    .map_err(backend)?
                    .execute(params_from_iter(endpoint_values(&updated)))
                    .map_err(backend)?;
                if stored.events != updated.events {
                    write_subscriptions(connection, &updated)?;
                } else {
                    bump_subscriptions_version(connection, &updated.tenant)?;
                }
                Ok(updated)
            })
            .await
    }

    async fn delete_endpoint(&self, tenant: &str, id: &EndpointId) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.to_owned(), id.to_string());
        self.db
            .write(move |connection| {
                let deleted = connection
                    .prepare_cached("DELETE FROM endpoints WHERE tenant = ?1 AND id = ?2")
                    .map_err(backend)?
                    .execute(params![tenant, id])
                    .map_err(backend)?;
                if deleted == 0 {
                    return Err(StoreError::NotFound);
                }
                connection
                    .execute(
                        "DELETE FROM attempts WHERE delivery_id IN \
                         (SELECT id FROM deliveries WHERE tenant = ?1 AND endpoint_id = ?2)",
                        params![tenant, id],
                    )
                    .map_err(backend)?;
                connection
                    .execute("DELETE FROM deliveries WHERE tenant = ?1 AND endpoint_id = ?2", params![tenant, id])
                    .map_err(backend)?;
                connection
                    .execute("DELETE FROM subscriptions WHERE tenant = ?1 AND endpoint_id = ?2", params![tenant, id])
                    .map_err(backend)?;
                bump_subscriptions_version(connection, &tenant)
            })
            .await
    }

    async fn subscribed_endpoints(&self, tenant: &str, event_type: &str) -> Result<Vec<Endpoint>, StoreError> {
        let patterns = patterns_matching(event_type);
        let tenant = tenant.to_owned();
        self.db
            .read(move |connection| {
                let placeholders = vec!["?"; patterns.len()].join(", ");
                let sql = format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM endpoints e WHERE e.tenant = ? AND e.id IN \
                     (SELECT endpoint_id FROM subscriptions WHERE tenant = e.tenant AND pattern IN ({placeholders})) \
                     ORDER BY e.id"
                );
                let arguments = std::iter::once(tenant).chain(patterns);
                connection
                    .prepare_cached(&sql)
                    .map_err(backend)?
                    .query_map(params_from_iter(arguments), endpoint_from_row)
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)
            })
            .await
    }

    async fn subscriptions_version(&self, tenant: &str) -> Result<u64, StoreError> {
        self.db.look_up(|connection| {
            let version: Option<i64> = connection
                .prepare_cached("SELECT version FROM subscription_versions WHERE tenant = ?1")
                .map_err(backend)?
                .query_row(params![tenant], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            Ok(version.unwrap_or(0) as u64)
        })
    }

    async fn count_disabled_endpoints(&self) -> Result<u64, StoreError> {
        self.db
            .read(|connection| {
                let count: i64 = connection
                    .prepare_cached("SELECT COUNT(*) FROM endpoints WHERE enabled = 0")
                    .map_err(backend)?
                    .query_row([], |row| row.get(0))
                    .map_err(backend)?;
                Ok(count as u64)
            })
            .await
    }

    async fn record_failure(
        &self,
        tenant: &str,
        id: &EndpointId,
        disable_after: u32,
        reason: &str,
    ) -> Result<FailureCount, StoreError> {
        let (tenant, id, reason) = (tenant.to_owned(), id.to_string(), reason.to_owned());
        self.db
            .write(move |connection| {
                let (count, enabled): (u32, bool) = connection
                    .prepare_cached(
                        "UPDATE endpoints SET failure_count = failure_count + 1, version = version + 1 \
                         WHERE tenant = ?1 AND id = ?2 RETURNING failure_count, enabled",
                    )
                    .map_err(backend)?
                    .query_row(params![tenant, id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
                    .map_err(backend)?
                    .ok_or(StoreError::NotFound)?;
                let disabled_now = enabled && count >= disable_after;
                if disabled_now {
                    connection
                        .prepare_cached(
                            "UPDATE endpoints SET enabled = 0, disabled_reason = ?3 WHERE tenant = ?1 AND id = ?2",
                        )
                        .map_err(backend)?
                        .execute(params![tenant, id, reason])
                        .map_err(backend)?;
                    bump_subscriptions_version(connection, &tenant)?;
                }
                Ok(FailureCount { failure_count: count, disabled_now })
            })
            .await
    }

    async fn reset_failures(&self, tenant: &str, id: &EndpointId) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.to_owned(), id.to_string());
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached(
                        "UPDATE endpoints SET failure_count = 0, version = version + 1 \
                         WHERE tenant = ?1 AND id = ?2 AND failure_count > 0",
                    )
                    .map_err(backend)?
                    .execute(params![tenant, id])
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }
}
