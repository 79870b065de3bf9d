//! `/v1/portal-sessions`: the product mints a customer portal session for one of its tenants
//! (an admin key for any tenant, a `portal:write` key for its own), hands the `url` (or the
//! token) to its customer, and revokes it, one by one or every session of a tenant.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use webhooks::ids::{EndpointId, MAX_TENANT_LEN, PortalSessionId, is_valid_tenant};
use webhooks::security::api_keys::Scope;
use webhooks::security::portal_sessions::PortalSessionStore;
use webhooks::time::Timestamp;
use webhooks_pipeline::services::portal_sessions::{NewSession, mint_portal_session};

use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, NoQuery, Whole};
use crate::state::{App, Ports};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"tenant": "acme", "read_only": false, "expires_in": 3600}))]
#[serde(deny_unknown_fields)]
pub struct NewPortalSession {
    /// The tenant whose endpoints the session manages; the caller's own when absent. Only an
    /// admin key may name another.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    tenant: Option<String>,
    /// The only endpoints it may see (ids or uids of the tenant's, 1 to 100); absent: every
    /// endpoint of the tenant, and creating new ones.
    #[schema(min_items = 1, max_items = 100)]
    endpoints: Option<Vec<String>>,
    /// It sees, and changes nothing.
    #[serde(default)]
    read_only: bool,
    /// Seconds it lives: 1 to 604800 (a week); 3600 when absent.
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 604800)]
    expires_in: Option<Whole<u64>>,
}

/// A minted session: the only place its token shows.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedPortalSession {
    #[schema(value_type = String)]
    id: PortalSessionId,
    /// Use it as a key (`Authorization: Bearer whp_...`); shown this once.
    token: String,
    /// The console in portal mode for this session, the token in the fragment (which a
    /// browser never sends to a server): open it, or embed it in an `<iframe>`.
    url: String,
    tenant: String,
    #[schema(value_type = Option<Vec<String>>)]
    endpoints: Option<Vec<EndpointId>>,
    read_only: bool,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// `?tenant=` of revoking every session of a tenant.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionsOf {
    /// The caller's tenant when absent; only an admin key may name another.
    #[param(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    tenant: Option<String>,
}

/// How many sessions were revoked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Revoked {
    revoked: usize,
}

/// The tenant a request names: the caller's own when absent; another only for an admin.
fn tenant_named(caller: &Caller, named: Option<String>) -> Result<String, ApiError> {
    if let Some(tenant) = named.as_deref().filter(|tenant| !is_valid_tenant(tenant)) {
        let rule = format!("must be 1..={MAX_TENANT_LEN} characters of A-Z a-z 0-9 - _, not {tenant:?}");
        return Err(ApiError::invalid("tenant", rule));
    }
    match named {
        Some(tenant) if tenant != caller.tenant() => {
            caller.require(Scope::Admin)?;
            Ok(tenant)
        }
        _ => Ok(caller.tenant().to_owned()),
    }
}

/// Where this service's console is, as the request reached it (`Host`, and
/// `X-Forwarded-Proto` behind a proxy or API Gateway); a relative URL without a `Host`.
fn console_url(headers: &HeaderMap, token: &str) -> String {
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .filter(|scheme| matches!(*scheme, "http" | "https"))
        .unwrap_or("http");
    match host {
        Some(host) => format!("{scheme}://{host}/console#portal={token}"),
        None => format!("/console#portal={token}"),
    }
}

/// Mint a customer portal session.
#[utoipa::path(post, path = "/v1/portal-sessions", operation_id = "create_portal_session", tag = "portal",
    request_body = NewPortalSession,
    responses((status = 201, description = "Minted, with its token and URL", body = CreatedPortalSession)))]
pub async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    headers: HeaderMap,
    _: NoQuery,
    ApiJson(input): ApiJson<NewPortalSession>,
) -> Result<Response, ApiError> {
    caller.require(Scope::PortalWrite)?;
    let asked = NewSession {
        tenant: tenant_named(&caller, input.tenant)?,
        endpoints: input.endpoints,
        read_only: input.read_only,
        expires_in: input.expires_in.map(|seconds| seconds.0),
    };
    let minted = mint_portal_session(&app.store, &app.clock, asked).await?;
    let session = minted.record;
    let created = CreatedPortalSession {
        url: console_url(&headers, &minted.token),
        id: session.id,
        token: minted.token,
        tenant: session.tenant,
        endpoints: session.endpoints,
        read_only: session.read_only,
        created_at: session.created_at,
        expires_at: session.expires_at,
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Revoke a portal session: its token is refused from the next request on.
#[utoipa::path(delete, path = "/v1/portal-sessions/{id}", operation_id = "delete_portal_session", tag = "portal",
    params(("id" = String, Path, description = "The session's id (`ps_...`)")),
    responses((status = 204, description = "Revoked")))]
pub async fn delete<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::PortalWrite)?;
    let id = PortalSessionId::parse(&id).ok_or(ApiError::NotFound)?;
    // An admin revokes any tenant's session; another key its own tenant's only.
    let tenant = (!caller.is_admin()).then(|| caller.tenant());
    app.store.delete_portal_session(tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Revoke every portal session of a tenant.
#[utoipa::path(delete, path = "/v1/portal-sessions", operation_id = "delete_portal_sessions", tag = "portal",
    params(SessionsOf),
    responses((status = 200, description = "Revoked", body = Revoked)))]
pub async fn delete_all<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(of): ApiQuery<SessionsOf>,
) -> Result<Response, ApiError> {
    caller.require(Scope::PortalWrite)?;
    let tenant = tenant_named(&caller, of.tenant)?;
    let revoked = app.store.delete_portal_sessions(&tenant).await?;
    Ok(Json(Revoked { revoked }).into_response())
}
