//! API keys: minted once, shown once, stored only as their SHA-256.

use sha2::{Digest, Sha256};

use crate::ids::{ApiKeyId, random_bytes};
use crate::model::{ApiKey, Scope, Tenant};
use crate::time::Timestamp;

const KEY_PREFIX: &str = "whk_";
/// Characters of the key kept for display (`whk_1a2b3c4d`).
const SHOWN_PREFIX_LEN: usize = 12;

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
        assert_eq!(a.key_hash, hash_key(&a.key));
        assert!(!a.key_hash.contains(&a.key));
        assert!(a.key.starts_with(&a.record.prefix));
        assert_ne!(a.key_hash, b.key_hash);
    }
}
