//! The store ports on SQLite, one file per port; this one holds what they share: the rows
//! and columns, and the subscription index.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::value::RawValue;

use super::{SqliteDatabase, backend};
use webhooks::deliveries::store::{DeliveryQuery, DeliveryStore};
use webhooks::deliveries::{Attempt, Delivery, DeliveryDetail, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::{EndpointQuery, EndpointStore, FailureCount};
use webhooks::events::Event;
use webhooks::events::patterns::patterns_matching;
use webhooks::events::store::{EventQuery, EventRecord, EventStore, EventSummary};
use webhooks::ids::{ApiKeyId, DeliveryId, EndpointId};
use webhooks::pagination::event_page;
use webhooks::pagination::into_page;
use webhooks::ports::{BackendError, Page, StoreError};
use webhooks::security::api_keys::ApiKey;
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::security::signing::{PreviousSecret, Secret};
use webhooks::time::Timestamp;

mod api_keys;
mod deliveries;
mod endpoints;
mod event_types;
mod events;
mod idempotency;
mod portal_sessions;
mod stats;

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
     disabled_reason, secret, previous_secret, previous_secret_expires_at, created_at, updated_at, version, rate_limit, metadata, uid";

/// `?1, ?2, ...`, one per endpoint column.
fn endpoint_placeholders() -> String {
    (1..=ENDPOINT_COLUMNS.split(',').count()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

/// `url = ?3, ...`: every endpoint column but the key (tenant, id), set from its placeholder.
fn endpoint_assignments() -> String {
    let columns = ENDPOINT_COLUMNS.split(',').map(str::trim).enumerate().skip(2);
    columns.map(|(i, column)| format!("{column} = ?{}", i + 1)).collect::<Vec<_>>().join(", ")
}

/// `Taken` if an endpoint of `tenant` other than `id` holds `uid` (the unique index would
/// refuse the write too; this names the uid).
fn check_uid_free(connection: &Connection, tenant: &str, uid: Option<&str>, id: &str) -> Result<(), StoreError> {
    let Some(uid) = uid else { return Ok(()) };
    let held = connection
        .prepare_cached("SELECT 1 FROM endpoints WHERE tenant = ?1 AND uid = ?2 AND id != ?3")
        .map_err(backend)?
        .exists(params![tenant, uid, id])
        .map_err(backend)?;
    if held { Err(StoreError::Taken(format!("an endpoint with uid {uid:?} exists"))) } else { Ok(()) }
}

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
        metadata: row.get::<_, Option<String>>(17)?.map(|text| from_json(&text)).transpose()?.unwrap_or_default(),
        uid: row.get(18)?,
    })
}

fn endpoint_values(endpoint: &Endpoint) -> [Value; 19] {
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
        Value::Text(to_json(&endpoint.metadata)),
        endpoint.uid.clone().map_or(Value::Null, Value::Text),
    ]
}

fn select_endpoint(connection: &Connection, tenant: &str, id: &str) -> Result<Option<Endpoint>, StoreError> {
    select_endpoint_by(connection, "id", tenant, id)
}

/// The endpoint of `tenant` whose `column` (its id, or its uid: both unique) is `value`.
fn select_endpoint_by(
    connection: &Connection,
    column: &str,
    tenant: &str,
    value: &str,
) -> Result<Option<Endpoint>, StoreError> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE tenant = ?1 AND {column} = ?2");
    connection
        .prepare_cached(&sql)
        .map_err(backend)?
        .query_row(params![tenant, value], endpoint_from_row)
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
