//! API keys' use cases: minting one (shown once, stored as its hash).

use super::ServiceError;
use webhooks::events::operational::OPERATOR_TENANT;
use webhooks::ids::Tenant;
use webhooks::ids::{MAX_TENANT_LEN, is_valid_tenant};
use webhooks::ports::Clock;
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::security::api_keys::MAX_KEY_NAME_LEN;
use webhooks::security::api_keys::Scope;
use webhooks::security::api_keys::{MintedKey, mint};
use webhooks::validation::FieldError;

/// Mints a key named `name` for `tenant` with `scopes` (sorted, each once) and stores its
/// hash; `Invalid` naming every bad field.
pub async fn create_key<S: ApiKeyStore, C: Clock>(
    store: &S,
    clock: &C,
    tenant: Tenant,
    name: String,
    mut scopes: Vec<Scope>,
) -> Result<MintedKey, ServiceError> {
    let mut errors = Vec::new();
    if name.trim().is_empty() || name.chars().count() > MAX_KEY_NAME_LEN {
        errors.push(FieldError::new("name", format!("must be 1..={MAX_KEY_NAME_LEN} characters")));
    }
    if scopes.is_empty() {
        errors.push(FieldError::new("scopes", "must list at least one scope"));
    }
    if !is_valid_tenant(&tenant) {
        errors.push(FieldError::new("tenant", format!("must be 1..={MAX_TENANT_LEN} characters of A-Z a-z 0-9 - _")));
    } else if tenant == OPERATOR_TENANT {
        errors.push(FieldError::new("tenant", "is reserved for the operational webhooks (/v1/operational-webhooks)"));
    }
    ServiceError::check(errors)?;
    scopes.sort();
    scopes.dedup();
    let minted = mint(tenant, name, scopes, clock.now(), None);
    store.create_api_key(&minted.record, &minted.key_hash).await?;
    Ok(minted)
}
