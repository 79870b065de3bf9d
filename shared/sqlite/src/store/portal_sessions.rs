//! The [`PortalSessionStore`] port on SQLite: one row per session, by its token's hash.

use super::*;
use webhooks::ids::PortalSessionId;
use webhooks::security::portal_sessions::{PortalSession, PortalSessionStore};

const COLUMNS: &str = "id, tenant, endpoints, read_only, created_at, expires_at";

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<PortalSession> {
    let endpoints: Option<String> = row.get(2)?;
    Ok(PortalSession {
        id: parse_id(row.get(0)?, PortalSessionId::parse)?,
        tenant: row.get(1)?,
        endpoints: endpoints.as_deref().map(from_json).transpose()?,
        read_only: row.get(3)?,
        created_at: Timestamp::from_millis(row.get(4)?),
        expires_at: Timestamp::from_millis(row.get(5)?),
    })
}

impl PortalSessionStore for SqliteStore {
    async fn create_portal_session(&self, session: &PortalSession, token_hash: &str) -> Result<(), StoreError> {
        let (session, token_hash) = (session.clone(), token_hash.to_owned());
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached(
                        "INSERT INTO portal_sessions (id, tenant, endpoints, read_only, created_at, expires_at, token_hash) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .map_err(backend)?
                    .execute(params![
                        session.id.as_str(),
                        session.tenant,
                        session.endpoints.as_ref().map(to_json),
                        session.read_only,
                        session.created_at.as_millis(),
                        session.expires_at.as_millis(),
                        token_hash,
                    ])
                    .map_err(|e| match e {
                        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                            StoreError::Conflict("this portal session exists".into())
                        }
                        other => backend(other),
                    })?;
                Ok(())
            })
            .await
    }

    async fn find_portal_session(&self, token_hash: &str) -> Result<Option<PortalSession>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.db
            .read(move |connection| {
                connection
                    .prepare_cached(&format!("SELECT {COLUMNS} FROM portal_sessions WHERE token_hash = ?1"))
                    .map_err(backend)?
                    .query_row(params![token_hash], session_from_row)
                    .optional()
                    .map_err(backend)
            })
            .await
    }

    async fn delete_portal_session(
        &self,
        tenant: Option<&str>,
        id: &PortalSessionId,
    ) -> Result<PortalSession, StoreError> {
        let (tenant, id) = (tenant.map(str::to_owned), id.to_string());
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "DELETE FROM portal_sessions WHERE id = ?1 AND (?2 IS NULL OR tenant = ?2) RETURNING {COLUMNS}"
                    ))
                    .map_err(backend)?
                    .query_row(params![id, tenant], session_from_row)
                    .optional()
                    .map_err(backend)?
                    .ok_or(StoreError::NotFound)
            })
            .await
    }

    async fn delete_portal_sessions(&self, tenant: &str) -> Result<usize, StoreError> {
        let tenant = tenant.to_owned();
        self.db
            .write(move |connection| {
                connection
                    .prepare_cached("DELETE FROM portal_sessions WHERE tenant = ?1")
                    .map_err(backend)?
                    .execute(params![tenant])
                    .map_err(backend)
            })
            .await
    }
}
