//! The [`DeliveryStore`] port on SQLite: deliveries and their attempts.

use super::*;

impl DeliveryStore for SqliteStore {
    async fn save_delivery(&self, delivery: &Delivery, attempt: Option<&Attempt>) -> Result<(), StoreError> {
        let delivery = delivery.clone();
        let attempt = attempt.cloned();
        self.db
            .write(move |connection| {
                let added = attempt.is_some() as u32;
                connection
                    .prepare_cached(
                        "INSERT INTO deliveries (id, tenant, endpoint_id, event_id, event_type, status, http_status, attempts, \
                         created_at, delivered_at, next_retry_at, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                         ON CONFLICT (id) DO UPDATE SET status = excluded.status, http_status = excluded.http_status, \
                         attempts = attempts + excluded.attempts, delivered_at = excluded.delivered_at, \
                         next_retry_at = excluded.next_retry_at, last_error = excluded.last_error",
                    )
                    .map_err(backend)?
                    .execute(params![
                        delivery.id.as_str(),
                        delivery.tenant,
                        delivery.endpoint_id.as_str(),
                        delivery.event_id,
                        delivery.event_type,
                        delivery.status.as_str(),
                        delivery.http_status,
                        added,
                        delivery.created_at.as_millis(),
                        delivery.delivered_at.map(Timestamp::as_millis),
                        delivery.next_retry_at.map(Timestamp::as_millis),
                        delivery.last_error,
                    ])
                    .map_err(backend)?;
                if let Some(attempt) = attempt {
                    connection
                        .prepare_cached(
                            "INSERT INTO attempts (delivery_id, at, duration_ms, http_status, response_body, error) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        )
                        .map_err(backend)?
                        .execute(params![
                            delivery.id.as_str(),
                            attempt.at.as_millis(),
                            attempt.duration_ms as i64,
                            attempt.http_status,
                            attempt.response_body,
                            attempt.error,
                        ])
                        .map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn requeue_delivery(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
        attempts: u32,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (tenant, endpoint_id, id) = (tenant.to_owned(), endpoint_id.as_str().to_owned(), id.as_str().to_owned());
        self.db
            .write(move |connection| {
                let changed = connection
                    .prepare_cached(
                        "UPDATE deliveries SET status = 'pending', next_retry_at = ?1 \
                         WHERE id = ?2 AND tenant = ?3 AND endpoint_id = ?4 AND status IN ('failed', 'delivered') AND attempts = ?5",
                    )
                    .map_err(backend)?
                    .execute(params![at.as_millis(), id, tenant, endpoint_id, attempts])
                    .map_err(backend)?;
                Ok(changed == 1)
            })
            .await
    }

    async fn get_delivery(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
    ) -> Result<DeliveryDetail, StoreError> {
        let (tenant, endpoint_id, id) = (tenant.to_owned(), endpoint_id.to_string(), id.to_string());
        self.db
            .read(move |connection| {
                let sql = format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1 AND tenant = ?2 AND endpoint_id = ?3"
                );
                let delivery = connection
                    .prepare_cached(&sql)
                    .map_err(backend)?
                    .query_row(params![id, tenant, endpoint_id], delivery_from_row)
                    .optional()
                    .map_err(backend)?
                    .ok_or(StoreError::NotFound)?;
                let payload: Option<String> = connection
                    .prepare_cached("SELECT payload FROM events WHERE tenant = ?1 AND id = ?2")
                    .map_err(backend)?
                    .query_row(params![tenant, delivery.event_id], |row| row.get(0))
                    .optional()
                    .map_err(backend)?;
                let attempts = connection
                    .prepare_cached(
                        "SELECT at, duration_ms, http_status, response_body, error FROM attempts \
                         WHERE delivery_id = ?1 ORDER BY rowid",
                    )
                    .map_err(backend)?
                    .query_map(params![id], |row| {
                        Ok(Attempt {
                            at: Timestamp::from_millis(row.get(0)?),
                            duration_ms: row.get::<_, i64>(1)? as u64,
                            http_status: row.get(2)?,
                            response_body: row.get(3)?,
                            error: row.get(4)?,
                        })
                    })
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(DeliveryDetail {
                    delivery,
                    payload: payload.and_then(|text| RawValue::from_string(text).ok()),
                    attempts,
                })
            })
            .await
    }

    async fn delivery_status(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<DeliveryStatus>, StoreError> {
        self.db.look_up(|connection| {
            let status: Option<String> = connection
                .prepare_cached("SELECT status FROM deliveries WHERE id = ?1 AND tenant = ?2 AND endpoint_id = ?3")
                .map_err(backend)?
                .query_row(params![id.as_str(), tenant, endpoint_id.as_str()], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            Ok(status.as_deref().and_then(DeliveryStatus::parse))
        })
    }

    async fn event_deliveries(
        &self,
        tenant: &str,
        event_id: &str,
        received_at: Timestamp,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (tenant, event_id) = (tenant.to_owned(), event_id.to_owned());
        let (low, high) = DeliveryId::time_range(received_at);
        self.db
            .read(move |connection| {
                let sql = format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE tenant = ?1 AND id BETWEEN ?2 AND ?3 \
                     AND event_id = ?4 ORDER BY endpoint_id"
                );
                connection
                    .prepare_cached(&sql)
                    .map_err(backend)?
                    .query_map(params![tenant, low, high, event_id], delivery_from_row)
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)
            })
            .await
    }

    async fn list_deliveries(&self, tenant: &str, query: &DeliveryQuery) -> Result<Page<Delivery>, StoreError> {
        let mut conditions = vec!["tenant = ?".to_owned()];
        let mut arguments = vec![Value::Text(tenant.to_owned())];
        let mut filter = |column: &str, value: Option<String>| {
            if let Some(value) = value {
                conditions.push(format!("{column} ?"));
                arguments.push(Value::Text(value));
            }
        };
        filter("endpoint_id =", query.endpoint_id.as_ref().map(|id| id.to_string()));
        filter("status =", query.status.map(|s| s.as_str().to_owned()));
        filter("event_type =", query.event_type.clone());
        filter("id <", query.before.as_ref().map(|id| id.to_string()));
        let limit = query.limit;
        arguments.push(Value::Integer(limit as i64 + 1));
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE {} ORDER BY id DESC LIMIT ?",
            conditions.join(" AND ")
        );
        self.db
            .read(move |connection| {
                let items = connection
                    .prepare_cached(&sql)
                    .map_err(backend)?
                    .query_map(params_from_iter(arguments), delivery_from_row)
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                Ok(into_page(items, limit, |d| d.id.as_str()))
            })
            .await
    }
}
