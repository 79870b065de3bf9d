//! The [`ApiKeyStore`] port on SQLite: API keys.

use super::*;

impl ApiKeyStore for SqliteStore {
    async fn create_api_key(&self, key: &ApiKey, key_hash: &str) -> Result<(), StoreError> {
        let (key, key_hash) = (key.clone(), key_hash.to_owned());
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached(
                        "INSERT INTO api_keys (id, tenant, name, scopes, prefix, key_hash, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(backend)?
                    .execute(params![
                        key.id.as_str(),
                        key.tenant,
                        key.name,
                        to_json(&key.scopes),
                        key.prefix,
                        key_hash,
                        key.created_at.as_millis(),
                    ])
                    .map_err(|e| match e {
                        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                            StoreError::Conflict("this API key exists".into())
                        }
                        other => backend(other),
                    })?;
                Ok(())
            })
            .await
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.db.look_up(|connection| {
            connection
                .prepare_cached("SELECT id, tenant, name, scopes, prefix, created_at FROM api_keys WHERE key_hash = ?1")
                .map_err(backend)?
                .query_row(params![key_hash], api_key_from_row)
                .optional()
                .map_err(backend)
        })
    }

    async fn list_api_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKey>, StoreError> {
        let tenant = tenant.map(str::to_owned);
        self.db
            .read(move |connection| {
                connection
                    .prepare_cached(
                        "SELECT id, tenant, name, scopes, prefix, created_at FROM api_keys \
                         WHERE ?1 IS NULL OR tenant = ?1 ORDER BY id",
                    )
                    .map_err(backend)?
                    .query_map(params![tenant], api_key_from_row)
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)
            })
            .await
    }

    async fn delete_api_key(&self, id: &ApiKeyId) -> Result<(), StoreError> {
        let id = id.to_string();
        self.db
            .write(move |connection| {
                let deleted = connection
                    .prepare_cached("DELETE FROM api_keys WHERE id = ?1")
                    .map_err(backend)?
                    .execute(params![id])
                    .map_err(backend)?;
                if deleted == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }
}
