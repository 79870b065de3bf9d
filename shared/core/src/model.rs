//! The domain: endpoints, events, deliveries and their attempts, API keys and scopes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::event_filter::EventFilters;
use crate::ids::{ApiKeyId, DeliveryId, EndpointId};
use crate::time::Timestamp;

/// A tenant's name. Every stored item belongs to exactly one tenant; another tenant's ids
/// behave as if they did not exist.
pub type Tenant = String;

/// An endpoint's signing secret. `Debug` never shows it, so it cannot leak through logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The HMAC key material: the UTF-8 bytes of the secret string.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The secret that keeps signing beside the current one until `expires_at` (a rotation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    pub secret: Secret,
    pub expires_at: Timestamp,
}

/// An entity id as producers send it: an integer or a string. Filters match on the canonical
/// text, so `42` and `"42"` are the same entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum EntityId {
    Number(#[serde(deserialize_with = "whole_i64")] i64),
    Text(String),
}

/// An integer as JSON Schema reads one: `42` or `42.0`, within `i64`.
pub fn whole_number(number: &serde_json::Number) -> Option<i64> {
    number.as_i64().or_else(|| {
        let float = number.as_f64()?;
        // i64::MAX as f64 rounds up to 2^63, which does not fit.
        (float.fract() == 0.0 && float >= i64::MIN as f64 && float < i64::MAX as f64).then_some(float as i64)
    })
}

fn whole_i64<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let number = serde_json::Number::deserialize(deserializer)?;
    whole_number(&number).ok_or_else(|| serde::de::Error::custom("not an integer"))
}

impl EntityId {
    pub fn canonical(&self) -> String {
        match self {
            EntityId::Number(n) => n.to_string(),
            EntityId::Text(s) => s.clone(),
        }
    }
}

/// A registered receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub id: EndpointId,
    pub tenant: Tenant,
    /// The tenant's own id for it, unique within the tenant and usable wherever the id is
    /// (see [`crate::validation::check_uid`] for its form).
    pub uid: Option<String>,
    pub url: String,
    /// Event types and wildcards (`*`, `family.*`) this endpoint subscribes to.
    pub events: Vec<String>,
    /// Event type or wildcard -> which of its events to take (entity ids or payload values);
    /// see [`crate::event_filter`].
    pub event_filters: EventFilters,
    pub description: Option<String>,
    /// Custom headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    /// The tenant's own notes on the endpoint (its customer, its plan...), kept and shown,
    /// never sent.
    pub metadata: BTreeMap<String, String>,
    /// At most this many deliveries attempted per second (see [`crate::rate_limit`]); `None`
    /// for no limit.
    pub rate_limit: Option<u32>,
    pub enabled: bool,
    pub failure_count: u32,
    pub disabled_reason: Option<String>,
    pub secret: Secret,
    pub previous_secret: Option<PreviousSecret>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped by every write; updates are conditional on it (optimistic concurrency).
    pub version: u64,
}

impl Endpoint {
    /// Why nothing is sent to it, for a delivery's `last_error`: `endpoint disabled`, and
    /// the reason if it has one.
    pub fn disabled_summary(&self) -> String {
        match &self.disabled_reason {
            Some(reason) => format!("endpoint disabled: {reason}"),
            None => "endpoint disabled".to_owned(),
        }
    }

    /// A new endpoint as it starts out: enabled, no failures, no filters, headers or
    /// description, its id and both timestamps taken from `now`.
    pub fn new(tenant: Tenant, url: String, events: Vec<String>, secret: Secret, now: Timestamp) -> Self {
        Self {
            id: EndpointId::generate(now),
            tenant,
            uid: None,
            url,
            events,
            event_filters: BTreeMap::new(),
            description: None,
            headers: BTreeMap::new(),
            metadata: BTreeMap::new(),
            rate_limit: None,
            enabled: true,
            failure_count: 0,
            disabled_reason: None,
            secret,
            previous_secret: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }
}

/// An event as accepted for fan-out. `payload` is kept byte for byte as the producer sent it.
#[derive(Debug)]
pub struct Event {
    pub tenant: Tenant,
    pub id: String,
    pub event_type: String,
    pub entity_id: Option<EntityId>,
    pub payload: Box<RawValue>,
    pub created_at: Timestamp,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Not yet delivered; a retry is scheduled (`next_retry_at`).
    Pending,
    Delivered,
    /// Every attempt failed (or the endpoint was disabled); a manual retry may revive it.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event's delivery to one endpoint, as the history shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: DeliveryId,
    #[serde(skip)]
    pub tenant: Tenant,
    pub endpoint_id: EndpointId,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub http_status: Option<u16>,
    /// How many attempts were made.
    pub attempts: u32,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub next_retry_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// One HTTP attempt of a delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    pub at: Timestamp,
    pub duration_ms: u64,
    pub http_status: Option<u16>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        matches!(self.http_status, Some(status) if (200..300).contains(&status))
    }
}

/// A delivery with its payload and every attempt.
#[derive(Debug)]
pub struct DeliveryDetail {
    pub delivery: Delivery,
    pub payload: Option<Box<RawValue>>,
    pub attempts: Vec<Attempt>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Scope {
    #[serde(rename = "webhooks:read")]
    WebhooksRead,
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
    #[serde(rename = "webhooks:delete")]
    WebhooksDelete,
    #[serde(rename = "events:write")]
    EventsWrite,
    /// A tenant's own event types: create, change, archive, delete.
    #[serde(rename = "event_types:write")]
    EventTypesWrite,
    /// Everything, plus managing API keys (for any tenant).
    #[serde(rename = "admin")]
    Admin,
}

/// An API key's record. The key itself is never stored, only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant: Tenant,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The key's first characters, enough to recognise it in a list.
    pub prefix: String,
    pub created_at: Timestamp,
}

impl ApiKey {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }
}
