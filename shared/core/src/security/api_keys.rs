//! API keys: minted once, shown once, stored only as their SHA-256.

use std::future::Future;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{ApiKeyId, Tenant, random_bytes};
use crate::ports::StoreError;
use crate::time::Timestamp;

const KEY_PREFIX: &str = "whk_";
/// Characters of the key kept for display (`whk_1a2b3c4d`).
const SHOWN_PREFIX_LEN: usize = 12;

/// The shortest key an operator may choose (`--admin-key`); minted keys are 52 characters.
pub const MIN_CHOSEN_KEY_LEN: usize = 32;
/// Different characters a chosen key must have at least (`aaaa...` is not a key).
const MIN_DISTINCT_CHARS: usize = 8;

/// Refuses a chosen key that is short, weak or unusable in an `Authorization` header.
pub fn check_chosen_key(key: &str) -> Result<(), String> {
    if key.len() < MIN_CHOSEN_KEY_LEN {
        return Err(format!(
            "the admin key must be at least {MIN_CHOSEN_KEY_LEN} characters (this one has {}); \
             leave it out and one is minted",
            key.len()
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the admin key must be printable ASCII without spaces".into());
    }
    let distinct: std::collections::BTreeSet<u8> = key.bytes().collect();
    if distinct.len() < MIN_DISTINCT_CHARS {
        return Err(format!("the admin key is too weak: fewer than {MIN_DISTINCT_CHARS} different characters"));
    }
    Ok(())
}

/// A freshly minted key: the record to store, its hash, and the key itself (show it once).
pub struct MintedKey {
    pub record: ApiKey,
    pub key_hash: String,
    pub key: String,
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Wraps a key chosen by the operator (`--admin-key`), or mints a random one.
pub fn mint(tenant: Tenant, name: String, scopes: Vec<Scope>, now: Timestamp, chosen: Option<String>) -> MintedKey {
    let key = chosen.unwrap_or_else(|| format!("{KEY_PREFIX}{}", hex::encode(random_bytes::<24>())));
    let prefix = key.chars().take(SHOWN_PREFIX_LEN).collect();
    MintedKey {
        record: ApiKey { id: ApiKeyId::generate(now), tenant, name, scopes, prefix, created_at: now },
        key_hash: hash_key(&key),
        key,
    }
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
    /// Minting and revoking the tenant's customer portal sessions.
    #[serde(rename = "portal:write")]
    PortalWrite,
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

/// API keys, found by the SHA-256 of the key (the key itself is never stored).
pub trait ApiKeyStore: Send + Sync + 'static {
    /// MUST return `Conflict` if a key with this hash exists.
    fn create_api_key(&self, key: &ApiKey, key_hash: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The key whose SHA-256 (hex) is `key_hash`, if any.
    fn find_api_key(&self, key_hash: &str) -> impl Future<Output = Result<Option<ApiKey>, StoreError>> + Send;

    /// Keys of one tenant, or of every tenant when `tenant` is `None`.
    fn list_api_keys(&self, tenant: Option<&str>) -> impl Future<Output = Result<Vec<ApiKey>, StoreError>> + Send;

    /// MUST return `NotFound` if absent.
    fn delete_api_key(&self, id: &ApiKeyId) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub const MAX_KEY_NAME_LEN: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_are_random_and_hashed() {
        let now = Timestamp::from_millis(0);
        let a = mint("t".into(), "a".into(), vec![Scope::Admin], now, None);
        let b = mint("t".into(), "b".into(), vec![Scope::Admin], now, None);
        assert_ne!(a.key, b.key);
        assert!(a.key.starts_with("whk_") && a.key.len() == 52);
        assert!(!a.key_hash.contains(&a.key));
        assert!(a.key.starts_with(&a.record.prefix) && a.record.prefix.len() < a.key.len());
        let chosen = mint("t".into(), "c".into(), vec![Scope::Admin], now, Some("k".repeat(40)));
        assert_eq!(chosen.key_hash, hash_key(&"k".repeat(40)));
        assert_ne!(a.key_hash, b.key_hash);
    }

    #[test]
    fn keys_are_stored_as_their_sha256() {
        // FIPS 180-2's test vector.
        assert_eq!(hash_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn chosen_keys_must_be_long_and_varied() {
        assert!(check_chosen_key("whk_0123456789abcdef0123456789abcdef").is_ok());
        assert!(check_chosen_key("whk_short_0123456789").unwrap_err().contains("at least 32"));
        assert!(check_chosen_key(&"a".repeat(40)).unwrap_err().contains("too weak"));
        assert!(check_chosen_key("whk 0123456789abcdef0123456789abcdef").unwrap_err().contains("printable"));
    }
}
