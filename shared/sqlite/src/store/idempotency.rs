//! The [`IdempotencyStore`] port on SQLite: one row per (tenant, key), taken and settled in
//! the writer, so two requests never both get `New`.

use webhooks::idempotency::IdempotencyStore;
use webhooks::idempotency::{IDEMPOTENCY_LOCK, IDEMPOTENCY_TTL, KeptAnswer, KeyUse, Taken};

use super::*;

impl IdempotencyStore for SqliteStore {
    async fn take_key(&self, key_use: &KeyUse<'_>) -> Result<Taken, StoreError> {
        let (tenant, key, fingerprint) =
            (key_use.tenant.to_owned(), key_use.key.to_owned(), key_use.fingerprint.to_owned());
        let now = key_use.now;
        self.db
            .write(move |connection| {
                let found = connection
                    .prepare_cached(
                        "SELECT fingerprint, status, body, locked_until, expires_at FROM idempotency_keys \
                         WHERE tenant = ?1 AND key = ?2",
                    )
                    .map_err(backend)?
                    .query_row(params![tenant, key], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Option<u16>>(1)?,
                            row.get::<_, Option<String>>(2)?,
                            row.get::<_, i64>(3)?,
                            row.get::<_, i64>(4)?,
                        ))
                    })
                    .optional()
                    .map_err(backend)?;
                let now_ms = now.as_millis();
                if let Some((stored, status, body, locked_until, expires_at)) = found
                    && expires_at > now_ms
                    && (status.is_some() || locked_until > now_ms)
                {
                    return Ok(match (status, body) {
                        _ if stored != fingerprint => Taken::Mismatch,
                        (Some(status), Some(body)) => Taken::Done(KeptAnswer { status, body }),
                        _ => Taken::InProgress,
                    });
                }
                connection
                    .prepare_cached(
                        "REPLACE INTO idempotency_keys (tenant, key, fingerprint, status, body, locked_until, expires_at) \
                         VALUES (?1, ?2, ?3, NULL, NULL, ?4, ?5)",
                    )
                    .map_err(backend)?
                    .execute(params![
                        tenant,
                        key,
                        fingerprint,
                        now.plus(IDEMPOTENCY_LOCK).as_millis(),
                        now.plus(IDEMPOTENCY_TTL).as_millis()
                    ])
                    .map_err(backend)?;
                Ok(Taken::New)
            })
            .await
    }

    async fn keep_answer(&self, key_use: &KeyUse<'_>, answer: &KeptAnswer) -> Result<(), StoreError> {
        let (tenant, key, fingerprint) =
            (key_use.tenant.to_owned(), key_use.key.to_owned(), key_use.fingerprint.to_owned());
        let (answer, expires_at) = (answer.clone(), key_use.now.plus(IDEMPOTENCY_TTL).as_millis());
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached(
                        "UPDATE idempotency_keys SET status = ?4, body = ?5, expires_at = ?6 \
                         WHERE tenant = ?1 AND key = ?2 AND fingerprint = ?3",
                    )
                    .map_err(backend)?
                    .execute(params![tenant, key, fingerprint, answer.status, answer.body, expires_at])
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn release_key(&self, tenant: &str, key: &str) -> Result<(), StoreError> {
        let (tenant, key) = (tenant.to_owned(), key.to_owned());
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached("DELETE FROM idempotency_keys WHERE tenant = ?1 AND key = ?2")
                    .map_err(backend)?
                    .execute(params![tenant, key])
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }
}
