//! Customer portal sessions: a short-lived token that opens the console for one tenant (or
//! some of its endpoints), minted by the product for its customer and used like an API key.
//! The token is shown once and stored only as its SHA-256; it expires, and it can be revoked
//! one by one or every session of a tenant at once.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::{EndpointId, PortalSessionId, Tenant, random_bytes};
use crate::ports::StoreError;
use crate::security::api_keys::{Scope, hash_key};
use crate::time::Timestamp;

/// Every portal token starts so, which tells it from an API key (`whk_`).
pub const TOKEN_PREFIX: &str = "whp_";
/// `expires_in` when the request gives none: an hour.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest `expires_in`: a week.
pub const MAX_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most endpoints one session may be limited to.
pub const MAX_SESSION_ENDPOINTS: usize = 100;

/// One session's record. The token itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalSession {
    pub id: PortalSessionId,
    pub tenant: Tenant,
    /// The only endpoints it may see; `None`: every endpoint of the tenant, and creating one.
    pub endpoints: Option<Vec<EndpointId>>,
    /// Sees, changes nothing.
    pub read_only: bool,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl PortalSession {
    /// What the session may do, as a key's scopes: read the tenant's endpoints and their
    /// deliveries, and unless read-only change and delete them. Never events, event types,
    /// keys or dead letters.
    pub fn scopes(&self) -> Vec<Scope> {
        if self.read_only {
            vec![Scope::WebhooksRead]
        } else {
            vec![Scope::WebhooksRead, Scope::WebhooksWrite, Scope::WebhooksDelete]
        }
    }

    /// Whether the session may see endpoint `id` (of its tenant).
    pub fn sees_endpoint(&self, id: &EndpointId) -> bool {
        self.endpoints.as_ref().is_none_or(|allowed| allowed.contains(id))
    }

    pub fn has_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}

/// A freshly minted session: the record to store, the token's hash, and the token (shown once).
pub struct MintedSession {
    pub record: PortalSession,
    pub token_hash: String,
    pub token: String,
}

/// A new session of `tenant` living `lifetime` from `now`.
pub fn mint_session(
    tenant: Tenant,
    endpoints: Option<Vec<EndpointId>>,
    read_only: bool,
    lifetime: Duration,
    now: Timestamp,
) -> MintedSession {
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(random_bytes::<24>()));
    MintedSession {
        record: PortalSession {
            id: PortalSessionId::generate(now),
            tenant,
            endpoints,
            read_only,
            created_at: now,
            expires_at: now.plus(lifetime),
        },
        token_hash: hash_key(&token),
        token,
    }
}

/// Portal sessions, found by the SHA-256 of their token.
pub trait PortalSessionStore: Send + Sync + 'static {
    /// MUST return `Conflict` if a session with this token hash exists.
    fn create_portal_session(
        &self,
        session: &PortalSession,
        token_hash: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session whose token has this hash, expired or not (the caller checks); `None` once
    /// it is revoked, at once (the very next lookup).
    fn find_portal_session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<PortalSession>, StoreError>> + Send;

    /// Revokes session `id` and answers it. MUST return `NotFound` if there is none, or if
    /// `tenant` is given and the session is another tenant's.
    fn delete_portal_session(
        &self,
        tenant: Option<&str>,
        id: &PortalSessionId,
    ) -> impl Future<Output = Result<PortalSession, StoreError>> + Send;

    /// Revokes every session of `tenant` (a session created before the call MUST be gone
    /// after it) and answers how many there were.
    fn delete_portal_sessions(&self, tenant: &str) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_sees_its_endpoints_and_does_what_its_mode_allows() {
        let now = Timestamp::from_millis(1_000_000);
        let (a, b) = (EndpointId::generate(now), EndpointId::generate(now));
        let minted = mint_session("acme".into(), Some(vec![a.clone()]), true, DEFAULT_LIFETIME, now);
        assert!(minted.token.starts_with(TOKEN_PREFIX) && minted.token.len() == 52);
        assert_eq!(minted.token_hash, hash_key(&minted.token));
        let session = minted.record;
        assert!(session.sees_endpoint(&a) && !session.sees_endpoint(&b));
        assert_eq!(session.scopes(), [Scope::WebhooksRead]);
        assert!(!session.has_expired(now.plus(DEFAULT_LIFETIME).minus(Duration::from_millis(1))));
        assert!(session.has_expired(now.plus(DEFAULT_LIFETIME)));
        let open = PortalSession { endpoints: None, read_only: false, ..session };
        assert!(open.sees_endpoint(&b));
        assert!(open.scopes().contains(&Scope::WebhooksDelete) && !open.scopes().contains(&Scope::Admin));
    }
}
