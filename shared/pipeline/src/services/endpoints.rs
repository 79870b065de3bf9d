//! Endpoints' use cases: create one within the tenant's limit, change one, rotate its
//! secret. A change is a read-modify-write that starts over when another write came first.

use std::collections::BTreeMap;
use std::time::Duration;

use super::event_types::tenant_catalog;
use super::{ServiceError, UPDATE_ATTEMPTS};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::filters::EventFilters;
use webhooks::endpoints::rules::{EndpointFields, check_endpoint, check_secret, check_signing};
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::operational::{OperationalEvent, OperationalType, reasons};
use webhooks::events::store::EventTypeStore;
use webhooks::events::types::TenantCatalog;
use webhooks::ids::EndpointId;
use webhooks::ports::{Clock, StoreError};
use webhooks::queues::Queue;
use webhooks::security::signing::Signing;
use webhooks::security::signing::{PreviousSecret, Secret};
use webhooks::security::url_guard::UrlPolicy;

use crate::operational::notify;

/// How long a rotated-out secret keeps signing by default.
pub const DEFAULT_ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest overlap a rotation may ask for.
pub const MAX_ROTATION_OVERLAP: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A new endpoint as asked for; what is absent takes its default.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub event_filters: EventFilters,
    pub description: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub metadata: BTreeMap<String, String>,
    pub rate_limit: Option<u32>,
    /// The tenant's own id for the endpoint.
    pub uid: Option<String>,
    /// Generated when absent, of the scheme `signing` asks for.
    pub secret: Option<String>,
    /// HMAC when absent (or the given secret's scheme).
    pub signing: Option<Signing>,
    /// Enabled when absent.
    pub enabled: Option<bool>,
}

/// A change to an endpoint: absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub event_filters: Option<EventFilters>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub headers: Option<BTreeMap<String, String>>,
    /// Replaces the metadata whole.
    pub metadata: Option<BTreeMap<String, String>>,
    /// `Some(None)` lifts the limit.
    pub rate_limit: Option<Option<u32>>,
    /// `Some(None)` drops it (the old uid is free for others at once).
    pub uid: Option<Option<String>>,
    /// Replaces the secret at once, ending any rotation's overlap.
    pub secret: Option<String>,
    /// Re-enabling starts the failure count afresh.
    pub enabled: Option<bool>,
}

impl EndpointChange {
    fn apply(&self, endpoint: &mut Endpoint) {
        let change = self.clone();
        if let Some(url) = change.url {
            endpoint.url = url;
        }
        if let Some(events) = change.events {
            endpoint.events = events;
        }
        if let Some(filters) = change.event_filters {
            endpoint.event_filters = filters;
        }
        if let Some(description) = change.description {
            endpoint.description = description;
        }
        if let Some(headers) = change.headers {
            endpoint.headers = headers;
        }
        if let Some(metadata) = change.metadata {
            endpoint.metadata = metadata;
        }
        if let Some(rate_limit) = change.rate_limit {
            endpoint.rate_limit = rate_limit;
        }
        if let Some(uid) = change.uid {
            endpoint.uid = uid;
        }
        if let Some(secret) = change.secret {
            endpoint.secret = Secret::new(secret);
            endpoint.previous_secret = None;
        }
        match change.enabled {
            Some(true) if !endpoint.enabled => {
                endpoint.enabled = true;
                endpoint.failure_count = 0;
                endpoint.disabled_reason = None;
            }
            Some(false) => endpoint.enabled = false,
            _ => {}
        }
    }
}

/// A secret rotation: the new secret (generated when absent) and how long the old one keeps
/// signing ([`DEFAULT_ROTATION_OVERLAP`] when absent, zero ends it at once).
#[derive(Debug, Clone, Default)]
pub struct SecretRotation {
    pub secret: Option<String>,
    /// The new secret's scheme; the current one's when absent.
    pub signing: Option<Signing>,
    pub overlap: Option<Duration>,
}

/// The endpoint use cases over an endpoint store and a clock; each change is told to the
/// operator on the events queue (`endpoint.created`, ...).
pub struct Endpoints<'a, S, C, Q> {
    pub store: &'a S,
    pub clock: &'a C,
    /// Where the operational events go.
    pub events: &'a Q,
    /// Where endpoint URLs may point.
    pub url_policy: &'a UrlPolicy,
    /// Endpoints one tenant may have.
    pub max_endpoints: usize,
}

fn validate(
    endpoint: &Endpoint,
    new_secret: Option<&str>,
    url_policy: &UrlPolicy,
    catalog: &TenantCatalog,
) -> Result<(), ServiceError> {
    let fields = EndpointFields {
        url: &endpoint.url,
        events: &endpoint.events,
        event_filters: &endpoint.event_filters,
        description: endpoint.description.as_deref(),
        headers: &endpoint.headers,
        metadata: &endpoint.metadata,
        rate_limit: endpoint.rate_limit,
        uid: endpoint.uid.as_deref(),
    };
    let mut errors = check_endpoint(&fields, url_policy, catalog);
    if let Some(secret) = new_secret {
        check_secret(secret, &mut errors);
    }
    ServiceError::check(errors)
}

impl<S: EndpointStore + EventTypeStore, C: Clock, Q: Queue> Endpoints<'_, S, C, Q> {
    async fn tell(&self, event_type: OperationalType, endpoint: &Endpoint, reason: Option<&str>) {
        let mut event = OperationalEvent::about(event_type, &endpoint.tenant, &endpoint.id);
        if let Some(reason) = reason {
            event = event.with_reason(reason);
        }
        notify(self.events, self.store, event, self.clock.now()).await;
    }

    /// Creates the endpoint; `Invalid` naming every bad field, `LimitReached` when the tenant
    /// has [`Endpoints::max_endpoints`] already.
    pub async fn create(&self, tenant: &str, new: NewEndpoint) -> Result<Endpoint, ServiceError> {
        let now = self.clock.now();
        let mut errors = Vec::new();
        check_signing(new.secret.as_deref(), new.signing, &mut errors);
        ServiceError::check(errors)?;
        let secret = new.secret.clone().map(Secret::new).unwrap_or_else(|| new.signing.unwrap_or_default().generate());
        let endpoint = Endpoint {
            event_filters: new.event_filters,
            description: new.description,
            headers: new.headers,
            metadata: new.metadata,
            rate_limit: new.rate_limit,
            uid: new.uid,
            enabled: new.enabled.unwrap_or(true),
            ..Endpoint::new(tenant.to_owned(), new.url, new.events, secret, now)
        };
        let catalog = tenant_catalog(self.store, tenant).await?;
        validate(&endpoint, new.secret.as_deref(), self.url_policy, &catalog)?;
        // Read, then write: concurrent creates can pass the limit by their number, no more.
        let max = self.max_endpoints;
        if self.store.count_endpoints(tenant, max).await? >= max {
            return Err(ServiceError::LimitReached(format!(
                "this tenant has reached its limit of {max} endpoints; delete one first"
            )));
        }
        self.store.create_endpoint(&endpoint).await?;
        self.tell(OperationalType::EndpointCreated, &endpoint, None).await;
        Ok(endpoint)
    }

    /// Deletes the endpoint; its pending deliveries are not sent.
    pub async fn delete(&self, tenant: &str, id: &EndpointId) -> Result<(), ServiceError> {
        self.store.delete_endpoint(tenant, id).await?;
        let event = OperationalEvent::about(OperationalType::EndpointDeleted, tenant, id);
        notify(self.events, self.store, event, self.clock.now()).await;
        Ok(())
    }

    /// Applies `change`; the result must be valid as a whole.
    pub async fn change(
        &self,
        tenant: &str,
        id: &EndpointId,
        change: EndpointChange,
    ) -> Result<Endpoint, ServiceError> {
        // Read once: a type deleted meanwhile is refused by its own check (`EventTypes::delete`).
        let catalog = tenant_catalog(self.store, tenant).await?;
        let was_enabled = std::sync::atomic::AtomicBool::new(false);
        let changed = self
            .modify(tenant, id, |endpoint| {
                was_enabled.store(endpoint.enabled, std::sync::atomic::Ordering::Relaxed);
                change.apply(endpoint);
                validate(endpoint, change.secret.as_deref(), self.url_policy, &catalog)
            })
            .await?;
        self.tell(OperationalType::EndpointUpdated, &changed, None).await;
        match (was_enabled.into_inner(), changed.enabled) {
            (true, false) => self.tell(OperationalType::EndpointDisabled, &changed, Some(reasons::MANUAL)).await,
            (false, true) => self.tell(OperationalType::EndpointEnabled, &changed, None).await,
            _ => {}
        }
        Ok(changed)
    }

    /// Replaces the secret; the old one keeps signing beside it for the overlap.
    pub async fn rotate_secret(
        &self,
        tenant: &str,
        id: &EndpointId,
        rotation: SecretRotation,
    ) -> Result<Endpoint, ServiceError> {
        let overlap = rotation.overlap.unwrap_or(DEFAULT_ROTATION_OVERLAP);
        if overlap > MAX_ROTATION_OVERLAP {
            return Err(ServiceError::invalid(
                "overlap_seconds",
                format!("at most {}", MAX_ROTATION_OVERLAP.as_secs()),
            ));
        }
        let mut errors = Vec::new();
        if let Some(secret) = &rotation.secret {
            check_secret(secret, &mut errors);
        }
        check_signing(rotation.secret.as_deref(), rotation.signing, &mut errors);
        ServiceError::check(errors)?;
        let now = self.clock.now();
        self.modify(tenant, id, |endpoint| {
            let new_secret = match &rotation.secret {
                Some(secret) => Secret::new(secret.clone()),
                None => rotation.signing.unwrap_or(Signing::of(&endpoint.secret)).generate(),
            };
            let old = std::mem::replace(&mut endpoint.secret, new_secret);
            endpoint.previous_secret =
                (!overlap.is_zero()).then(|| PreviousSecret { secret: old, expires_at: now.plus(overlap) });
            Ok(())
        })
        .await
    }

    /// Reads the endpoint, applies `change`, and writes it back if nobody wrote in between;
    /// otherwise starts over, [`UPDATE_ATTEMPTS`] times at most.
    async fn modify(
        &self,
        tenant: &str,
        id: &EndpointId,
        change: impl Fn(&mut Endpoint) -> Result<(), ServiceError>,
    ) -> Result<Endpoint, ServiceError> {
        for _ in 0..UPDATE_ATTEMPTS {
            let mut endpoint = self.store.get_endpoint(tenant, id).await?;
            change(&mut endpoint)?;
            endpoint.updated_at = self.clock.now();
            match self.store.update_endpoint(&endpoint).await {
                Err(StoreError::Conflict(_)) => continue,
                other => return Ok(other?),
            }
        }
        Err(ServiceError::Conflict("the endpoint is being changed by another request; try again".into()))
    }
}
