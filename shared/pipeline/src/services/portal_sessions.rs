//! Customer portal sessions' use case: minting one for a tenant, limited to some of its
//! endpoints (each named by id or uid, and there) or not, read-only or not, for a lifetime
//! within the limits.

use std::time::Duration;

use super::ServiceError;
use webhooks::endpoints::rules::is_uid_form;
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::operational::OPERATOR_TENANT;
use webhooks::ids::{EndpointId, MAX_TENANT_LEN, Tenant, is_valid_tenant};
use webhooks::ports::{Clock, StoreError};
use webhooks::security::portal_sessions::{
    DEFAULT_LIFETIME, MAX_LIFETIME, MAX_SESSION_ENDPOINTS, MintedSession, PortalSessionStore, mint_session,
};
use webhooks::validation::FieldError;

/// What a session is asked for.
pub struct NewSession {
    pub tenant: Tenant,
    /// Ids or uids of the tenant's endpoints; `None` for all of them.
    pub endpoints: Option<Vec<String>>,
    pub read_only: bool,
    /// Seconds; [`DEFAULT_LIFETIME`] when `None`.
    pub expires_in: Option<u64>,
}

/// Mints the session and stores its token's hash; `Invalid` naming every bad field (an
/// endpoint the tenant does not have among them).
pub async fn mint_portal_session<S: EndpointStore + PortalSessionStore, C: Clock>(
    store: &S,
    clock: &C,
    asked: NewSession,
) -> Result<MintedSession, ServiceError> {
    let mut errors = Vec::new();
    if !is_valid_tenant(&asked.tenant) {
        errors.push(FieldError::new("tenant", format!("must be 1..={MAX_TENANT_LEN} characters of A-Z a-z 0-9 - _")));
    } else if asked.tenant == OPERATOR_TENANT {
        errors.push(FieldError::new("tenant", "is reserved for the operational webhooks"));
    }
    let lifetime = asked.expires_in.map_or(DEFAULT_LIFETIME, Duration::from_secs);
    if lifetime.is_zero() || lifetime > MAX_LIFETIME {
        errors.push(FieldError::new("expires_in", format!("must be 1 to {} seconds", MAX_LIFETIME.as_secs())));
    }
    if let Some(named) = &asked.endpoints
        && !(1..=MAX_SESSION_ENDPOINTS).contains(&named.len())
    {
        errors.push(FieldError::new("endpoints", format!("must list 1 to {MAX_SESSION_ENDPOINTS} endpoints")));
    }
    ServiceError::check(errors)?;
    let endpoints = match asked.endpoints {
        None => None,
        Some(named) => Some(resolve(store, &asked.tenant, &named).await?),
    };
    let minted = mint_session(asked.tenant, endpoints, asked.read_only, lifetime, clock.now());
    store.create_portal_session(&minted.record, &minted.token_hash).await?;
    Ok(minted)
}

/// The ids of the endpoints `named` (by id or uid), each once, in the order given.
async fn resolve<S: EndpointStore>(store: &S, tenant: &str, named: &[String]) -> Result<Vec<EndpointId>, ServiceError> {
    let mut ids: Vec<EndpointId> = Vec::with_capacity(named.len());
    let mut errors = Vec::new();
    for (at, name) in named.iter().enumerate() {
        let found = match EndpointId::parse(name) {
            Some(id) => store.get_endpoint(tenant, &id).await,
            None if is_uid_form(name) => store.find_endpoint_by_uid(tenant, name).await,
            None => Err(StoreError::NotFound),
        };
        match found {
            Ok(endpoint) if !ids.contains(&endpoint.id) => ids.push(endpoint.id),
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                errors.push(FieldError::new(format!("endpoints[{at}]"), format!("the tenant has no endpoint {name:?}")))
            }
            Err(error) => return Err(error.into()),
        }
    }
    ServiceError::check(errors)?;
    Ok(ids)
}
