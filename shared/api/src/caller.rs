//! Who is calling: an API key, or a customer portal session, from `Authorization: Bearer`.
//! A portal session acts as a key of its tenant with the scopes of its mode, on the `/v1/`
//! routes only (not the seeds' dialects, not MCP), and sees only its endpoints when it is
//! limited to some. Looked up once per request: a layer that needed it first (idempotency)
//! leaves it in the request's extensions.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use webhooks::events::operational::OPERATOR_TENANT;
use webhooks::ids::{ApiKeyId, EndpointId};
use webhooks::ports::Clock;
use webhooks::security::api_keys::{ApiKey, ApiKeyStore, Scope, hash_key};
use webhooks::security::portal_sessions::{PortalSession, PortalSessionStore, TOKEN_PREFIX};

use crate::error::ApiError;
use crate::state::{App, Ports};

#[derive(Clone, Debug)]
pub enum Caller {
    Key(ApiKey),
    Portal(PortalSession),
}

impl Caller {
    fn allows(&self, scope: Scope) -> bool {
        match self {
            Caller::Key(key) => key.allows(scope),
            Caller::Portal(session) => session.scopes().contains(&scope),
        }
    }

    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.allows(scope) { Ok(()) } else { Err(ApiError::Forbidden(scope)) }
    }

    /// An admin key: every scope, any tenant.
    pub fn is_admin(&self) -> bool {
        self.allows(Scope::Admin)
    }

    /// Whether this caller may read endpoints' secrets, and so their custom header values.
    pub fn sees_secrets(&self) -> bool {
        self.allows(Scope::WebhooksWrite)
    }

    pub fn tenant(&self) -> &str {
        match self {
            Caller::Key(key) => &key.tenant,
            Caller::Portal(session) => &session.tenant,
        }
    }

    pub fn scopes(&self) -> Vec<Scope> {
        match self {
            Caller::Key(key) => key.scopes.clone(),
            Caller::Portal(session) => session.scopes(),
        }
    }

    /// The API key's id; `None` for a portal session.
    pub fn key_id(&self) -> Option<&ApiKeyId> {
        match self {
            Caller::Key(key) => Some(&key.id),
            Caller::Portal(_) => None,
        }
    }

    pub fn portal(&self) -> Option<&PortalSession> {
        match self {
            Caller::Key(_) => None,
            Caller::Portal(session) => Some(session),
        }
    }

    /// The only endpoints this caller may see, if it is limited to some.
    pub fn endpoints(&self) -> Option<&[EndpointId]> {
        self.portal().and_then(|session| session.endpoints.as_deref())
    }

    /// Whether the caller may see endpoint `id` of its tenant (another's is never found).
    pub fn sees_endpoint(&self, id: &EndpointId) -> bool {
        self.portal().is_none_or(|session| session.sees_endpoint(id))
    }

    /// An admin key acting on the operator's tenant, which holds the operational webhooks:
    /// what `/v1/operational-webhooks` runs the endpoint routes as. Anyone else: 403.
    pub fn as_operator(&self) -> Result<Caller, ApiError> {
        self.require(Scope::Admin)?;
        match self {
            Caller::Key(key) => Ok(Caller::Key(ApiKey { tenant: OPERATOR_TENANT.to_owned(), ..key.clone() })),
            Caller::Portal(_) => Err(ApiError::Forbidden(Scope::Admin)),
        }
    }

    /// Refuses a portal session limited to endpoints what reaches past them (the tenant's
    /// event or delivery log, a new endpoint).
    pub fn require_every_endpoint(&self) -> Result<(), ApiError> {
        if self.endpoints().is_some() { Err(ApiError::PortalLimited) } else { Ok(()) }
    }
}

impl<P: Ports> FromRequestParts<Arc<App<P>>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App<P>>) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        // Looked up by SHA-256: the token itself is never compared, so no timing reveals it.
        if token.starts_with(TOKEN_PREFIX) {
            let session = app.store.find_portal_session(&hash_key(token)).await?.ok_or(ApiError::Unauthorized)?;
            if session.has_expired(app.clock.now()) {
                return Err(ApiError::Unauthorized);
            }
            if !parts.uri.path().starts_with("/v1/") {
                return Err(ApiError::PortalLimited);
            }
            return Ok(Caller::Portal(session));
        }
        let found = app.store.find_api_key(&hash_key(token)).await?;
        found.map(Caller::Key).ok_or(ApiError::Unauthorized)
    }
}
