//! Response bodies.

use std::collections::BTreeMap;

use serde::Serialize;
use webhooks::model::{Endpoint, EntityId, Secret};
use webhooks::signing::standard_webhooks_secret;
use webhooks::time::Timestamp;

/// An endpoint as the API shows it: never its secret.
#[derive(Serialize)]
pub struct EndpointView<'a> {
    pub id: &'a str,
    pub url: &'a str,
    pub events: &'a [String],
    pub event_filters: &'a BTreeMap<String, Vec<EntityId>>,
    pub description: Option<&'a str>,
    pub headers: &'a BTreeMap<String, String>,
    pub enabled: bool,
    pub failure_count: u32,
    pub disabled_reason: Option<&'a str>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl<'a> From<&'a Endpoint> for EndpointView<'a> {
    fn from(endpoint: &'a Endpoint) -> Self {
        Self {
            id: endpoint.id.as_str(),
            url: &endpoint.url,
            events: &endpoint.events,
            event_filters: &endpoint.event_filters,
            description: endpoint.description.as_deref(),
            headers: &endpoint.headers,
            enabled: endpoint.enabled,
            failure_count: endpoint.failure_count,
            disabled_reason: endpoint.disabled_reason.as_deref(),
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
        }
    }
}

/// The secret in both forms, and until when a rotated-out secret still signs.
#[derive(Serialize)]
pub struct SecretView<'a> {
    pub secret: &'a str,
    pub standard_webhooks_secret: String,
    pub previous_secret_expires_at: Option<Timestamp>,
}

impl<'a> SecretView<'a> {
    pub fn of(endpoint: &'a Endpoint, now: Timestamp) -> Self {
        Self::new(&endpoint.secret, endpoint.previous_secret.as_ref().map(|p| p.expires_at).filter(|at| *at > now))
    }

    fn new(secret: &'a Secret, previous_secret_expires_at: Option<Timestamp>) -> Self {
        Self {
            secret: secret.expose(),
            standard_webhooks_secret: standard_webhooks_secret(secret),
            previous_secret_expires_at,
        }
    }
}

/// The create response: the endpoint and, this once in a listing-free place, its secret.
#[derive(Serialize)]
pub struct CreatedEndpoint<'a> {
    #[serde(flatten)]
    pub endpoint: EndpointView<'a>,
    #[serde(flatten)]
    pub secret: SecretView<'a>,
}

/// A page: `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Serialize)]
pub struct PageView<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}
