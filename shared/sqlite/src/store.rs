//! The [`Store`] port on SQLite.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::value::RawValue;

use super::{SqliteDatabase, backend};
use webhooks::filter::patterns_matching;
use webhooks::ids::{ApiKeyId, DeliveryId, EndpointId};
use webhooks::model::{
    ApiKey, Attempt, Delivery, DeliveryDetail, DeliveryStatus, Endpoint, Event, PreviousSecret, Secret,
};
use webhooks::pagination::into_page;
use webhooks::ports::{DeliveryQuery, EndpointQuery, EventRecord, FailureCount, Page, Store, StoreError};
use webhooks::time::Timestamp;

#[derive(Clone)]
pub struct SqliteStore {
    db: SqliteDatabase,
}

impl SqliteStore {
    pub(super) fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("model types serialize")
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn parse_id<T>(text: String, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    parse(&text).ok_or_else(|| rusqlite::Error::InvalidColumnName(format!("malformed stored id {text}")))
}

const ENDPOINT_COLUMNS: &str = "tenant, id, url, events, event_filters, description, headers, enabled, failure_count, \
     disabled_reason, secret, previous_secret, previous_secret_expires_at, created_at, updated_at, version, rate_limit";

fn endpoint_from_row(row: &Row<'_>) -> rusqlite::Result<Endpoint> {
    let previous_secret: Option<String> = row.get(11)?;
    let previous_expires: Option<i64> = row.get(12)?;
    Ok(Endpoint {
        tenant: row.get(0)?,
        id: parse_id(row.get(1)?, EndpointId::parse)?,
        url: row.get(2)?,
        events: from_json(&row.get::<_, String>(3)?)?,
        event_filters: from_json(&row.get::<_, String>(4)?)?,
        description: row.get(5)?,
        headers: from_json(&row.get::<_, String>(6)?)?,
        enabled: row.get(7)?,
        failure_count: row.get(8)?,
        disabled_reason: row.get(9)?,
        secret: Secret::new(row.get::<_, String>(10)?),
        previous_secret: previous_secret.zip(previous_expires).map(|(secret, expires)| PreviousSecret {
            secret: Secret::new(secret),
            expires_at: Timestamp::from_millis(expires),
        }),
        created_at: Timestamp::from_millis(row.get(13)?),
        updated_at: Timestamp::from_millis(row.get(14)?),
        version: row.get::<_, i64>(15)? as u64,
        rate_limit: row.get(16)?,
    })
}

fn endpoint_values(endpoint: &Endpoint) -> [Value; 17] {
    [
        Value::Text(endpoint.tenant.clone()),
        Value::Text(endpoint.id.to_string()),
        Value::Text(endpoint.url.clone()),
        Value::Text(to_json(&endpoint.events)),
        Value::Text(to_json(&endpoint.event_filters)),
        endpoint.description.clone().map_or(Value::Null, Value::Text),
        Value::Text(to_json(&endpoint.headers)),
        Value::Integer(endpoint.enabled as i64),
        Value::Integer(endpoint.failure_count as i64),
        endpoint.disabled_reason.clone().map_or(Value::Null, Value::Text),
        Value::Text(endpoint.secret.expose().to_owned()),
        endpoint.previous_secret.as_ref().map_or(Value::Null, |p| Value::Text(p.secret.expose().to_owned())),
        endpoint.previous_secret.as_ref().map_or(Value::Null, |p| Value::Integer(p.expires_at.as_millis())),
        Value::Integer(endpoint.created_at.as_millis()),
        Value::Integer(endpoint.updated_at.as_millis()),
        Value::Integer(endpoint.version as i64),
        endpoint.rate_limit.map_or(Value::Null, |limit| Value::Integer(limit.into())),
    ]
}

fn select_endpoint(connection: &Connection, tenant: &str, id: &str) -> Result<Option<Endpoint>, StoreError> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE tenant = ?1 AND id = ?2");
    connection
        .prepare_cached(&sql)
        .map_err(backend)?
        .query_row(params![tenant, id], endpoint_from_row)
        .optional()
        .map_err(backend)
}

fn bump_subscriptions_version(connection: &Connection, tenant: &str) -> Result<(), StoreError> {
    connection
        .prepare_cached(
            "INSERT INTO subscription_versions (tenant, version) VALUES (?1, 1) \
             ON CONFLICT (tenant) DO UPDATE SET version = version + 1",
        )
        .map_err(backend)?
        .execute(params![tenant])
        .map_err(backend)?;
    Ok(())
}

fn write_subscriptions(connection: &Connection, endpoint: &Endpoint) -> Result<(), StoreError> {
    bump_subscriptions_version(connection, &endpoint.tenant)?;
    connection
        .prepare_cached("DELETE FROM subscriptions WHERE tenant = ?1 AND endpoint_id = ?2")
        .map_err(backend)?
        .execute(params![endpoint.tenant, endpoint.id.as_str()])
        .map_err(backend)?;
    let mut insert = connection
        .prepare_cached("INSERT OR IGNORE INTO subscriptions (tenant, pattern, endpoint_id) VALUES (?1, ?2, ?3)")
        .map_err(backend)?;
    for pattern in &endpoint.events {
        insert.execute(params![endpoint.tenant, pattern, endpoint.id.as_str()]).map_err(backend)?;
    }
    Ok(())
}

const DELIVERY_COLUMNS: &str = "id, tenant, endpoint_id, event_id, event_type, status, http_status, attempts, created_at, \
     delivered_at, next_retry_at, last_error";

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    let status: String = row.get(5)?;
    Ok(Delivery {
        id: parse_id(row.get(0)?, DeliveryId::parse)?,
        tenant: row.get(1)?,
        endpoint_id: parse_id(row.get(2)?, EndpointId::parse)?,
        event_id: row.get(3)?,
        event_type: row.get(4)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(format!("unknown status {status}")))?,
        http_status: row.get(6)?,
        attempts: row.get(7)?,
        created_at: Timestamp::from_millis(row.get(8)?),
        delivered_at: row.get::<_, Option<i64>>(9)?.map(Timestamp::from_millis),
        next_retry_at: row.get::<_, Option<i64>>(10)?.map(Timestamp::from_millis),
        last_error: row.get(11)?,
    })
}

fn api_key_from_row(row: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: parse_id(row.get(0)?, ApiKeyId::parse)?,
        tenant: row.get(1)?,
        name: row.get(2)?,
        scopes: from_json(&row.get::<_, String>(3)?)?,
        prefix: row.get(4)?,
        created_at: Timestamp::from_millis(row.get(5)?),
    })
}

impl Store for SqliteStore {
    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let endpoint = endpoint.clone();
        self.db
            .write(move |connection| {
                let sql = format!(
                    "INSERT INTO endpoints ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
                );
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
        let (tenant, id) = (tenant.to_owned(), id.to_string());
        self.db.read(move |connection| select_endpoint(connection, &tenant, &id)?.ok_or(StoreError::NotFound)).await
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
                let stored = select_endpoint(connection, &updated.tenant, updated.id.as_str())?
                    .ok_or(StoreError::NotFound)?;
                if stored.version != updated.version {
                    return Err(StoreError::Conflict("the endpoint changed since it was read".into()));
                }
                updated.version += 1;
                let sql = format!("REPLACE INTO endpoints ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
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
        let tenant = tenant.to_owned();
        self.db
            .read(move |connection| {
                let version: Option<i64> = connection
                    .prepare_cached("SELECT version FROM subscription_versions WHERE tenant = ?1")
                    .map_err(backend)?
                    .query_row(params![tenant], |row| row.get(0))
                    .optional()
                    .map_err(backend)?;
                Ok(version.unwrap_or(0) as u64)
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

    async fn record_event(&self, event: &Event, message_id: &str) -> Result<EventRecord, StoreError> {
        let values = (
            event.tenant.clone(),
            event.id.clone(),
            event.event_type.clone(),
            event.entity_id.as_ref().map(to_json),
            event.payload.get().to_owned(),
            message_id.to_owned(),
            event.created_at.as_millis(),
        );
        self.db
            .write(move |connection| {
                let inserted = connection
                    .prepare_cached(
                        "INSERT INTO events (tenant, id, event_type, entity_id, payload, message_id, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    )
                    .map_err(backend)?
                    .execute(params![values.0, values.1, values.2, values.3, values.4, values.5, values.6])
                    .map_err(backend)?;
                if inserted == 1 {
                    return Ok(EventRecord::New);
                }
                let first_message: String = connection
                    .prepare_cached("SELECT message_id FROM events WHERE tenant = ?1 AND id = ?2")
                    .map_err(backend)?
                    .query_row(params![values.0, values.1], |row| row.get(0))
                    .map_err(backend)?;
                Ok(if first_message == values.5 { EventRecord::SameMessage } else { EventRecord::Duplicate })
            })
            .await
    }

    async fn event_payload(&self, tenant: &str, event_id: &str) -> Result<Option<Box<RawValue>>, StoreError> {
        let (tenant, event_id) = (tenant.to_owned(), event_id.to_owned());
        self.db
            .read(move |connection| {
                let text: Option<String> = connection
                    .prepare_cached("SELECT payload FROM events WHERE tenant = ?1 AND id = ?2")
                    .map_err(backend)?
                    .query_row(params![tenant, event_id], |row| row.get(0))
                    .optional()
                    .map_err(backend)?;
                text.map(|text| RawValue::from_string(text).map_err(|e| StoreError::Backend(e.to_string()))).transpose()
            })
            .await
    }

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
                         WHERE id = ?2 AND tenant = ?3 AND endpoint_id = ?4 AND status = 'failed' AND attempts = ?5",
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
        let (tenant, endpoint_id, id) = (tenant.to_owned(), endpoint_id.to_string(), id.to_string());
        self.db
            .read(move |connection| {
                let status: Option<String> = connection
                    .prepare_cached("SELECT status FROM deliveries WHERE id = ?1 AND tenant = ?2 AND endpoint_id = ?3")
                    .map_err(backend)?
                    .query_row(params![id, tenant, endpoint_id], |row| row.get(0))
                    .optional()
                    .map_err(backend)?;
                Ok(status.as_deref().and_then(DeliveryStatus::parse))
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

    async fn create_api_key(&self, key: &ApiKey, key_hash: &str) -> Result<(), StoreError> {
        let (key, key_hash) = (key.clone(), key_hash.to_owned());
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached(
                        "INSERT INTO api_keys (id, tenant, name, scopes, prefix, key_hash, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(backend)?
                    .execute(params![
                        key.id.as_str(),
                        key.tenant,
                        key.name,
                        to_json(&key.scopes),
                        key.prefix,
                        key_hash,
                        key.created_at.as_millis(),
                    ])
                    .map_err(|e| match e {
                        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                            StoreError::Conflict("this API key exists".into())
                        }
                        other => backend(other),
                    })?;
                Ok(())
            })
            .await
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let key_hash = key_hash.to_owned();
        self.db
            .read(move |connection| {
                connection
                    .prepare_cached(
                        "SELECT id, tenant, name, scopes, prefix, created_at FROM api_keys WHERE key_hash = ?1",
                    )
                    .map_err(backend)?
                    .query_row(params![key_hash], api_key_from_row)
                    .optional()
                    .map_err(backend)
            })
            .await
    }

    async fn list_api_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKey>, StoreError> {
        let tenant = tenant.map(str::to_owned);
        self.db
            .read(move |connection| {
                connection
                    .prepare_cached(
                        "SELECT id, tenant, name, scopes, prefix, created_at FROM api_keys \
                         WHERE ?1 IS NULL OR tenant = ?1 ORDER BY id",
                    )
                    .map_err(backend)?
                    .query_map(params![tenant], api_key_from_row)
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)
            })
            .await
    }

    async fn delete_api_key(&self, id: &ApiKeyId) -> Result<(), StoreError> {
        let id = id.to_string();
        self.db
            .write(move |connection| {
                let deleted = connection
                    .prepare_cached("DELETE FROM api_keys WHERE id = ?1")
                    .map_err(backend)?
                    .execute(params![id])
                    .map_err(backend)?;
                if deleted == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }
}
