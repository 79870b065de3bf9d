//! `/v1/api-keys`: admins mint, list and revoke keys, for their tenant or another.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use webhooks::ids::{ApiKeyId, EndpointId};
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::security::api_keys::{ApiKey, Scope};
use webhooks::security::portal_sessions::TOKEN_PREFIX;
use webhooks::time::Timestamp;
use webhooks_pipeline::services::api_keys::create_key;

use crate::error::{ApiError, ErrorBody};
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, NoQuery};
use crate::state::{App, Ports};
use crate::views::{CreatedApiKey, ListView};

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "reporting", "scopes": ["webhooks:read"]}))]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// The caller's tenant when absent.
    tenant: Option<String>,
    #[schema(min_items = 1)]
    scopes: Vec<Scope>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KeyFilter {
    /// The caller's tenant when absent.
    tenant: Option<String>,
}

/// Mint an API key (admin); the answer is the only place the key shows.
#[utoipa::path(post, path = "/v1/api-keys", operation_id = "create_api_key", tag = "api keys", request_body = NewKey,
    responses((status = 201, description = "Minted", body = CreatedApiKey)))]
pub async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<NewKey>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let tenant = input.tenant.unwrap_or_else(|| caller.tenant().to_owned());
    let minted = create_key(&app.store, &app.clock, tenant, input.name, input.scopes).await?;
    let body = CreatedApiKey { record: &minted.record, key: &minted.key };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/v1/api-keys", operation_id = "list_api_keys", tag = "api keys", params(KeyFilter),
    responses((status = 200, description = "The tenant's keys", body = ListView<ApiKey>)))]
pub async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<KeyFilter>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let tenant = filter.tenant.unwrap_or_else(|| caller.tenant().to_owned());
    let keys = app.store.list_api_keys(Some(&tenant)).await?;
    Ok(Json(ListView { data: keys }).into_response())
}

/// The key or portal session making a request.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The key's id (`key_...`), or the portal session's (`ps_...`).
    id: String,
    /// The key's name; `portal session` for a session.
    name: String,
    tenant: String,
    scopes: Vec<Scope>,
    /// The key's first characters (`whk_1a2b3c4d`); `whp_` for a portal session.
    prefix: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// A portal session's limits; absent for an API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    portal: Option<PortalLimits>,
    /// What this deployment's delivery history keeps: `all`, or `failures` (a delivery that
    /// succeeded at its first attempt is counted in its endpoint's stats, not listed).
    #[schema(value_type = String)]
    history: &'static str,
}

/// What a portal session is limited to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PortalLimits {
    read_only: bool,
    /// The only endpoints it sees; `null`: every endpoint of the tenant.
    #[schema(value_type = Option<Vec<String>>)]
    endpoints: Option<Vec<EndpointId>>,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// The key (or portal session) making the request: its tenant and scopes, for a client (the
/// console) to offer only what it may do. Any valid key may ask; the key itself never shows.
#[utoipa::path(get, path = "/v1/me", operation_id = "get_current_key", tag = "api keys",
    responses((status = 200, description = "The key making the request", body = Me)))]
pub async fn me<P: Ports>(State(app): State<Arc<App<P>>>, caller: Caller, _: NoQuery) -> Json<Me> {
    let scopes = caller.scopes();
    let history = app.settings.history.as_str();
    Json(match caller {
        Caller::Key(key) => Me {
            id: key.id.to_string(),
            name: key.name,
            tenant: key.tenant,
            scopes,
            prefix: key.prefix,
            created_at: key.created_at,
            portal: None,
            history,
        },
        Caller::Portal(session) => Me {
            id: session.id.to_string(),
            name: "portal session".to_owned(),
            tenant: session.tenant,
            scopes,
            prefix: TOKEN_PREFIX.to_owned(),
            created_at: session.created_at,
            portal: Some(PortalLimits {
                read_only: session.read_only,
                endpoints: session.endpoints,
                expires_at: session.expires_at,
            }),
            history,
        },
    })
}

/// Revoke a key.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", operation_id = "delete_api_key", tag = "api keys",
    params(("id" = String, Path, description = "The key's id (`key_...`)")),
    responses((status = 204, description = "Revoked"),
        (status = 409, description = "The key making the request, which cannot revoke itself", body = ErrorBody)))]
pub async fn delete<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    let id = ApiKeyId::parse(&id).ok_or(ApiError::NotFound)?;
    if caller.key_id() == Some(&id) {
        // An admin's last key revoked by itself would lock the tenant out.
        return Err(ApiError::Conflict("an API key cannot revoke itself; use another admin key".to_owned()));
    }
    app.store.delete_api_key(&id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
