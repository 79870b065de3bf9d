//! Response bodies.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use webhooks::deliveries::Delivery;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::filters::EventFilters;
use webhooks::events::EntityId;
use webhooks::ports::Page;
use webhooks::security::api_keys::ApiKey;
use webhooks::security::signing::Secret;
use webhooks::security::signing::{Signing, public_key, standard_webhooks_secret};
use webhooks::time::Timestamp;

/// Shown instead of a custom header's value to a caller who may not see the secret.
pub const REDACTED: &str = "[redacted]";

/// An endpoint's custom headers: their values are credentials as much as the secret is, so
/// only a caller who may read the secret (`webhooks:write`) sees them.
pub struct HeadersView<'a> {
    headers: &'a BTreeMap<String, String>,
    values: bool,
}

impl Serialize for HeadersView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.headers.len()))?;
        for (name, value) in self.headers {
            map.serialize_entry(name, if self.values { value.as_str() } else { REDACTED })?;
        }
        map.end()
    }
}

/// What every route family shows of an endpoint, whatever it names its description and its
/// on/off switch (`/v1`: `description`, `enabled`; the seeds' dialects their own): never its
/// secret.
#[derive(Serialize, ToSchema)]
pub struct EndpointFields<'a> {
    pub id: &'a str,
    /// The tenant's own id for it, usable in place of `id`; `null` if it has none.
    pub uid: Option<&'a str>,
    pub url: &'a str,
    pub events: &'a [String],
    #[schema(inline)]
    pub event_filters: &'a EventFilters,
    /// Sent with every delivery; values show as `[redacted]` to a key without `webhooks:write`.
    #[schema(value_type = BTreeMap<String, String>)]
    pub headers: HeadersView<'a>,
    pub metadata: &'a BTreeMap<String, String>,
    /// Deliveries per second at most; `null` for no limit.
    pub rate_limit: Option<u32>,
    /// How deliveries are signed: `hmac_sha256` (`v1`) or `ed25519` (`v1a`).
    pub signing: Signing,
    pub failure_count: u32,
    pub disabled_reason: Option<&'a str>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl<'a> EndpointFields<'a> {
    /// `endpoint`'s fields, its custom header values replaced by [`REDACTED`] unless
    /// `header_values` (a caller who may read the secret may read them).
    pub fn of(endpoint: &'a Endpoint, header_values: bool) -> Self {
        Self {
            id: endpoint.id.as_str(),
            uid: endpoint.uid.as_deref(),
            url: &endpoint.url,
            events: &endpoint.events,
            event_filters: &endpoint.event_filters,
            headers: HeadersView { headers: &endpoint.headers, values: header_values },
            metadata: &endpoint.metadata,
            rate_limit: endpoint.rate_limit,
            signing: Signing::of(&endpoint.secret),
            failure_count: endpoint.failure_count,
            disabled_reason: endpoint.disabled_reason.as_deref(),
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

/// An endpoint as `/v1` shows it: never its secret.
#[derive(Serialize, ToSchema)]
#[schema(as = Endpoint)]
pub struct EndpointView<'a> {
    #[serde(flatten)]
    pub fields: EndpointFields<'a>,
    pub description: Option<&'a str>,
    pub enabled: bool,
}

impl<'a> EndpointView<'a> {
    /// See [`EndpointFields::of`].
    pub fn of(endpoint: &'a Endpoint, header_values: bool) -> Self {
        Self {
            fields: EndpointFields::of(endpoint, header_values),
            description: endpoint.description.as_deref(),
            enabled: endpoint.enabled,
        }
    }
}

/// What receivers verify signatures with: an HMAC secret in both forms, or an ed25519
/// endpoint's public key (its private key is never shown); and until when a rotated-out
/// secret still signs.
#[derive(Serialize, ToSchema)]
#[schema(as = Secret)]
pub struct SecretView<'a> {
    /// HMAC: the shared secret; `null` for ed25519.
    pub secret: Option<&'a str>,
    /// HMAC: the secret as Standard Webhooks libraries take it (`whsec_...`); `null` for ed25519.
    pub standard_webhooks_secret: Option<String>,
    /// ed25519 only: the public key (`whpk_...`) that verifies `v1a` signatures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    pub previous_secret_expires_at: Option<Timestamp>,
}

impl<'a> SecretView<'a> {
    pub fn of(endpoint: &'a Endpoint, now: Timestamp) -> Self {
        Self::new(&endpoint.secret, endpoint.previous_secret.as_ref().map(|p| p.expires_at).filter(|at| *at > now))
    }

    fn new(secret: &'a Secret, previous_secret_expires_at: Option<Timestamp>) -> Self {
        match public_key(secret) {
            Some(public_key) => Self {
                secret: None,
                standard_webhooks_secret: None,
                public_key: Some(public_key),
                previous_secret_expires_at,
            },
            None => Self {
                secret: Some(secret.expose()),
                standard_webhooks_secret: Some(standard_webhooks_secret(secret)),
                public_key: None,
                previous_secret_expires_at,
            },
        }
    }
}

/// The create response: the endpoint and, this once in a listing-free place, its secret.
#[derive(Serialize, ToSchema)]
pub struct CreatedEndpoint<'a> {
    #[serde(flatten)]
    pub endpoint: EndpointView<'a>,
    #[serde(flatten)]
    pub secret: SecretView<'a>,
}

impl<'a> CreatedEndpoint<'a> {
    pub fn of(endpoint: &'a Endpoint, now: Timestamp) -> Self {
        Self { endpoint: EndpointView::of(endpoint, true), secret: SecretView::of(endpoint, now) }
    }
}

/// A page: `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Serialize, ToSchema)]
pub struct PageView<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl<T> PageView<T> {
    /// `page` with each item shown as `view` shows it.
    pub fn of<'a, I>(page: &'a Page<I>, view: impl Fn(&'a I) -> T) -> Self {
        Self { data: page.items.iter().map(view).collect(), next_cursor: page.next_cursor.clone() }
    }
}

/// A whole list: `{"data": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct ListView<T> {
    pub data: Vec<T>,
}

/// `POST /v1/events`: the ids of the accepted events, in the order sent.
#[derive(Serialize, ToSchema)]
pub struct AcceptedEvents {
    pub ids: Vec<String>,
}

/// An event read back: what the producer sent, when it was received, where it went.
#[derive(Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventView<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub entity_id: Option<&'a EntityId>,
    pub created_at: Timestamp,
    /// As the producer sent it, byte for byte.
    #[schema(value_type = Object)]
    pub payload: &'a RawValue,
    /// One per endpoint it went to (or was kept from, while disabled).
    pub deliveries: &'a [Delivery],
}

/// A delivery with the event's payload (`null` once no longer retained) and every attempt.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDetailView<'a> {
    #[serde(flatten)]
    pub delivery: &'a Delivery,
    #[schema(value_type = Option<Object>)]
    pub payload: Option<&'a RawValue>,
    pub attempt_log: &'a [webhooks::deliveries::Attempt],
    /// The headers of the last attempt (custom header values only for a key with
    /// `webhooks:write`); absent before the first attempt and once the payload is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<webhooks_pipeline::attempt::HeadersSent>,
}

/// A minted API key: its record and, this once, the key itself.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey<'a> {
    #[serde(flatten)]
    pub record: &'a ApiKey,
    /// Shown only here; the service keeps only its SHA-256.
    pub key: &'a str,
}

/// What waits in a dead-letter queue.
#[derive(Serialize, ToSchema)]
pub struct DeadLettersView {
    pub queue: &'static str,
    /// How many messages wait (approximate on SQS).
    pub depth: u64,
    pub data: Vec<DeadLetterView>,
}

/// One dead letter: the message as it was queued, and why it was parked.
#[derive(Serialize, ToSchema)]
pub struct DeadLetterView {
    pub message_id: String,
    pub sent_at: Timestamp,
    /// `null`: the queue's redrive moved it (see the log).
    pub reason: Option<String>,
    pub body: String,
}

/// What a redrive moved.
#[derive(Serialize, ToSchema)]
pub struct Redriven {
    pub queue: &'static str,
    pub moved: usize,
    pub remaining: u64,
}
