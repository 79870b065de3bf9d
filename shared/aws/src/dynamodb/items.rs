//! Conversions between the model and DynamoDB items. Attribute names are short because
//! DynamoDB bills an item's size, names included.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;

use super::schema::*;
use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::ids::{ApiKeyId, DeliveryId, EndpointId};
use webhooks::ports::StoreError;
use webhooks::security::api_keys::ApiKey;
use webhooks::security::signing::{PreviousSecret, Secret};
use webhooks::time::Timestamp;

pub type Item = HashMap<String, AttributeValue>;

pub fn text(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn malformed(what: &str) -> StoreError {
    StoreError::Backend(format!("malformed stored item: {what}").into())
}

pub fn get_text<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    optional_text(item, name).ok_or_else(|| malformed(name))
}

pub fn optional_text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Some(value),
        _ => None,
    }
}

pub fn get_number<T: FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    optional_number(item, name)?.ok_or_else(|| malformed(name))
}

pub fn optional_number<T: FromStr>(item: &Item, name: &str) -> Result<Option<T>, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map(Some).map_err(|_| malformed(name)),
        _ => Ok(None),
    }
}

pub(super) fn get_bool(item: &Item, name: &str) -> Result<bool, StoreError> {
    match item.get(name) {
        Some(AttributeValue::Bool(value)) => Ok(*value),
        _ => Err(malformed(name)),
    }
}

pub(super) fn get_json<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    serde_json::from_str(get_text(item, name)?).map_err(|_| malformed(name))
}

pub(super) fn json<T: serde::Serialize>(value: &T) -> AttributeValue {
    text(serde_json::to_string(value).expect("model types serialize"))
}

fn parse_id<T>(item: &Item, name: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(get_text(item, name)?).ok_or_else(|| malformed(name))
}

fn timestamp(item: &Item, name: &str) -> Result<Timestamp, StoreError> {
    get_number(item, name).map(Timestamp::from_millis)
}

fn optional_timestamp(item: &Item, name: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(optional_number(item, name)?.map(Timestamp::from_millis))
}

fn insert_optional(item: &mut Item, name: &str, value: Option<AttributeValue>) {
    if let Some(value) = value {
        item.insert(name.to_owned(), value);
    }
}

/// An item's primary key.
pub fn key(partition: String, sort: impl Into<String>) -> Item {
    HashMap::from([(PARTITION_KEY.to_owned(), text(partition)), (SORT_KEY.to_owned(), text(sort))])
}

pub fn endpoint_key(tenant: &str, id: &str) -> Item {
    key(tenant_partition(tenant), endpoint_sort_key(id))
}

pub fn subscription_key(tenant: &str, pattern: &str, endpoint_id: &str) -> Item {
    key(tenant_partition(tenant), subscription_sort_key(pattern, endpoint_id))
}

pub fn uid_key(tenant: &str, uid: &str) -> Item {
    key(tenant_partition(tenant), uid_sort_key(uid))
}

pub fn subscriptions_version_key(tenant: &str) -> Item {
    key(tenant_partition(tenant), SUBSCRIPTIONS_VERSION_SORT_KEY)
}

pub fn event_key(tenant: &str, event_id: &str) -> Item {
    key(event_partition(tenant, event_id), EVENT_SORT_KEY)
}

pub fn api_key_key(key_hash: &str) -> Item {
    key(api_key_partition(key_hash), API_KEY_SORT_KEY)
}

pub fn endpoint_item(endpoint: &Endpoint) -> Item {
    let mut item = endpoint_key(&endpoint.tenant, endpoint.id.as_str());
    item.extend([
        ("id".to_owned(), text(endpoint.id.as_str())),
        ("url".to_owned(), text(&endpoint.url)),
        ("events".to_owned(), json(&endpoint.events)),
        ("filters".to_owned(), json(&endpoint.event_filters)),
        ("headers".to_owned(), json(&endpoint.headers)),
        ("enabled".to_owned(), AttributeValue::Bool(endpoint.enabled)),
        ("failures".to_owned(), number(endpoint.failure_count)),
        ("secret".to_owned(), text(endpoint.secret.expose())),
        ("created".to_owned(), number(endpoint.created_at.as_millis())),
        ("updated".to_owned(), number(endpoint.updated_at.as_millis())),
        ("ver".to_owned(), number(endpoint.version)),
    ]);
    insert_optional(&mut item, "desc", endpoint.description.as_ref().map(text));
    insert_optional(&mut item, "uid", endpoint.uid.as_ref().map(text));
    insert_optional(&mut item, "rate", endpoint.rate_limit.map(number));
    insert_optional(&mut item, "meta", (!endpoint.metadata.is_empty()).then(|| json(&endpoint.metadata)));
    insert_optional(&mut item, "reason", endpoint.disabled_reason.as_ref().map(text));
    if !endpoint.enabled {
        item.insert(LISTING_PARTITION_KEY.to_owned(), text(DISABLED_ENDPOINTS_LISTING));
        item.insert(
            LISTING_SORT_KEY.to_owned(),
            text(disabled_endpoint_listing_key(&endpoint.tenant, endpoint.id.as_str())),
        );
    }
    if let Some(previous) = &endpoint.previous_secret {
        item.insert("prev".to_owned(), text(previous.secret.expose()));
        item.insert("prev_exp".to_owned(), number(previous.expires_at.as_millis()));
    }
    item
}

pub fn endpoint_from_item(tenant: &str, item: &Item) -> Result<Endpoint, StoreError> {
    let previous_secret = match (optional_text(item, "prev"), optional_timestamp(item, "prev_exp")?) {
        (Some(secret), Some(expires_at)) => Some(PreviousSecret { secret: Secret::new(secret), expires_at }),
        _ => None,
    };
    Ok(Endpoint {
        id: parse_id(item, "id", EndpointId::parse)?,
        tenant: tenant.to_owned(),
        uid: optional_text(item, "uid").map(str::to_owned),
        url: get_text(item, "url")?.to_owned(),
        events: get_json(item, "events")?,
        event_filters: get_json(item, "filters")?,
        description: optional_text(item, "desc").map(str::to_owned),
        headers: get_json(item, "headers")?,
        rate_limit: optional_number(item, "rate")?,
        metadata: match optional_text(item, "meta") {
            Some(text) => serde_json::from_str(text).map_err(|_| malformed("meta"))?,
            None => Default::default(),
        },
        enabled: get_bool(item, "enabled")?,
        failure_count: get_number(item, "failures")?,
        disabled_reason: optional_text(item, "reason").map(str::to_owned),
        secret: Secret::new(get_text(item, "secret")?),
        previous_secret,
        created_at: timestamp(item, "created")?,
        updated_at: timestamp(item, "updated")?,
        version: get_number(item, "ver")?,
    })
}

pub fn delivery_key(tenant: &str, endpoint_id: &str, id: &str) -> Item {
    key(delivery_partition(tenant, endpoint_id), id)
}

pub fn delivery_status_from_item(item: &Item) -> Result<DeliveryStatus, StoreError> {
    DeliveryStatus::parse(get_text(item, "status")?).ok_or_else(|| malformed("status"))
}

pub fn delivery_from_item(tenant: &str, item: &Item) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: parse_id(item, SORT_KEY, DeliveryId::parse)?,
        tenant: tenant.to_owned(),
        endpoint_id: parse_id(item, "ep", EndpointId::parse)?,
        event_id: get_text(item, "evt")?.to_owned(),
        event_type: get_text(item, "type")?.to_owned(),
        status: delivery_status_from_item(item)?,
        http_status: optional_number(item, "http")?,
        attempts: get_number(item, "n")?,
        created_at: timestamp(item, "created")?,
        delivered_at: optional_timestamp(item, "delivered")?,
        next_retry_at: optional_timestamp(item, "retry_at")?,
        last_error: optional_text(item, "error").map(str::to_owned),
    })
}

pub fn attempt_value(attempt: &Attempt) -> AttributeValue {
    let mut map = HashMap::from([
        ("at".to_owned(), number(attempt.at.as_millis())),
        ("ms".to_owned(), number(attempt.duration_ms)),
    ]);
    insert_optional(&mut map, "http", attempt.http_status.map(number));
    insert_optional(&mut map, "body", attempt.response_body.as_ref().map(text));
    insert_optional(&mut map, "error", attempt.error.as_ref().map(text));
    AttributeValue::M(map)
}

pub fn attempts_from_item(item: &Item) -> Result<Vec<Attempt>, StoreError> {
    let Some(AttributeValue::L(list)) = item.get("attempts") else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|value| {
            let AttributeValue::M(map) = value else { return Err(malformed("attempts")) };
            Ok(Attempt {
                at: timestamp(map, "at")?,
                duration_ms: get_number(map, "ms")?,
                http_status: optional_number(map, "http")?,
                response_body: optional_text(map, "body").map(str::to_owned),
                error: optional_text(map, "error").map(str::to_owned),
            })
        })
        .collect()
}

pub fn api_key_item(api_key: &ApiKey, key_hash: &str) -> Item {
    let mut item = api_key_key(key_hash);
    item.extend([
        (LISTING_PARTITION_KEY.to_owned(), text(API_KEY_LISTING)),
        (LISTING_SORT_KEY.to_owned(), text(format!("{}#{}", api_key.tenant, api_key.id))),
        ("id".to_owned(), text(api_key.id.as_str())),
        ("tenant".to_owned(), text(&api_key.tenant)),
        ("name".to_owned(), text(&api_key.name)),
        ("scopes".to_owned(), json(&api_key.scopes)),
        ("prefix".to_owned(), text(&api_key.prefix)),
        ("created".to_owned(), number(api_key.created_at.as_millis())),
    ]);
    item
}

pub fn api_key_from_item(item: &Item) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: parse_id(item, "id", ApiKeyId::parse)?,
        tenant: get_text(item, "tenant")?.to_owned(),
        name: get_text(item, "name")?.to_owned(),
        scopes: get_json(item, "scopes")?,
        prefix: get_text(item, "prefix")?.to_owned(),
        created_at: timestamp(item, "created")?,
    })
}

/// The size DynamoDB bills for an item: names plus values, as its documentation counts them
/// (numbers approximately). One write unit covers 1 KB.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(digits) => digits.trim_start_matches('-').len().div_ceil(2) + 1,
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        _ => 0,
    }
}
