//! `webhooks admin-key`: mints an admin API key straight into the store. It is how a deployed
//! stack gets its first key (the template holds none) and how a lost one is replaced. The key
//! is printed once; only its SHA-256 is stored.

use std::path::Path;

use webhooks::backend::Store;
use webhooks::ports::{ErrorChain, StoreError};
use webhooks::security::api_keys::Scope;
use webhooks::security::api_keys::hash_key;
use webhooks::security::api_keys::{MintedKey, check_chosen_key, mint};
use webhooks::time::Timestamp;
use webhooks_sqlite::SqliteDatabase;

use crate::data_dir::{DATABASE_FILE, lock_data_dir};

/// The tenant of the first admin key.
pub const DEFAULT_TENANT: &str = "default";
/// The name of the admin key `serve --admin-key` manages: there is one at a time.
pub const FLAG_ADMIN_KEY_NAME: &str = "admin (--admin-key)";

/// Mints an admin key named `name` for the default tenant into the embedded backend's data
/// directory `dir` (not while `webhooks serve` runs on it); answers the key. Unless `create`,
/// `dir` must hold a database already (a mistyped path is not a new one).
pub async fn create_admin_key(dir: &Path, create: bool, name: &str) -> Result<String, String> {
    let file = dir.join(DATABASE_FILE);
    if !create && !file.exists() {
        return Err(format!(
            "{} holds no webhooks database (check --data, or add --create to start one there)",
            dir.display()
        ));
    }
    let _lock = lock_data_dir(dir)?;
    let db = SqliteDatabase::open(&file).map_err(|e| ErrorChain(&e).to_string())?;
    mint_admin_key(&db.store(), name, None).await.map(|minted| minted.key)
}

/// Stores an admin key for the default tenant: `chosen` (refused if weak), or a new one;
/// answers the key and its record.
pub async fn mint_admin_key<S: Store>(store: &S, name: &str, chosen: Option<String>) -> Result<MintedKey, String> {
    if let Some(key) = &chosen {
        check_chosen_key(key)?;
    }
    let minted = mint(DEFAULT_TENANT.into(), name.to_owned(), vec![Scope::Admin], Timestamp::now(), chosen);
    store.create_api_key(&minted.record, &minted.key_hash).await.map_err(|e| ErrorChain(&e).to_string())?;
    Ok(minted)
}

/// Makes sure an admin key exists: the operator's, or a new one on first start. The
/// operator's replaces the one an earlier `--admin-key` set, which stops working.
pub(crate) async fn ensure_admin_key<S: Store>(store: &S, chosen: Option<String>) -> Result<Option<String>, String> {
    if let Some(key) = chosen {
        let current = match store.find_api_key(&hash_key(&key)).await.map_err(|e| ErrorChain(&e).to_string())? {
            Some(found) => found.id,
            None => mint_admin_key(store, FLAG_ADMIN_KEY_NAME, Some(key)).await?.record.id,
        };
        let keys = store.list_api_keys(Some(DEFAULT_TENANT)).await.map_err(|e| ErrorChain(&e).to_string())?;
        for earlier in keys.iter().filter(|k| k.name == FLAG_ADMIN_KEY_NAME && k.id != current) {
            match store.delete_api_key(&earlier.id).await {
                Ok(()) | Err(StoreError::NotFound) => {
                    tracing::info!(key_id = %earlier.id, "revoked the admin key an earlier --admin-key set")
                }
                Err(error) => return Err(ErrorChain(&error).to_string()),
            }
        }
        return Ok(None);
    }
    if !store.list_api_keys(None).await.map_err(|e| ErrorChain(&e).to_string())?.is_empty() {
        return Ok(None);
    }
    mint_admin_key(store, "admin (first start)", None).await.map(|minted| Some(minted.key))
}
