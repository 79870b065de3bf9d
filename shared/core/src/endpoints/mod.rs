//! Endpoints: the model ([`Endpoint`]), the rules its fields follow (`rules`), the filters
//! that choose which events it takes (`filters`, `matching`), and its store (`store`).

pub mod filters;
pub mod matching;
pub mod rules;
pub mod store;

use std::collections::BTreeMap;

use crate::endpoints::filters::EventFilters;
use crate::ids::{EndpointId, Tenant};
use crate::security::signing::{EndpointKeys, PreviousSecret, Secret};
use crate::time::Timestamp;

/// A registered receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub id: EndpointId,
    pub tenant: Tenant,
    /// The tenant's own id for it, unique within the tenant and usable wherever the id is
    /// (see [`crate::endpoints::rules::check_uid`] for its form).
    pub uid: Option<String>,
    pub url: String,
    /// Event types and wildcards (`*`, `family.*`) this endpoint subscribes to.
    pub events: Vec<String>,
    /// Event type or wildcard -> which of its events to take (entity ids or payload values);
    /// see [`crate::endpoints::filters`].
    pub event_filters: EventFilters,
    pub description: Option<String>,
    /// Custom headers sent with every delivery.
    pub headers: BTreeMap<String, String>,
    /// The tenant's own notes on the endpoint (its customer, its plan...), kept and shown,
    /// never sent.
    pub metadata: BTreeMap<String, String>,
    /// At most this many deliveries attempted per second (see [`crate::deliveries::rate_limit`]); `None`
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
    /// The keys it signs with at `now`: its secret, and the previous one during a rotation.
    pub fn keys(&self, now: Timestamp) -> EndpointKeys {
        EndpointKeys::new(&self.secret, self.previous_secret.as_ref(), now)
    }

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
