//! `/v1/webhooks`: create, list, show, update, delete (the rules are the endpoint service's).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::filters::EventFilters;
use webhooks::endpoints::rules::is_uid_form;
use webhooks::endpoints::store::{EndpointQuery, EndpointStore};
use webhooks::ids::EndpointId;
use webhooks::pagination::into_page;
use webhooks::ports::{Clock, Page, StoreError};
use webhooks::security::api_keys::Scope;
use webhooks::security::signing::Signing;
use webhooks_pipeline::services::endpoints::{EndpointChange, NewEndpoint as NewEndpointFields};

use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, EndpointPath, NoQuery, PageParams, Whole, present};
use crate::state::{App, Ports};
use crate::views::{CreatedEndpoint, EndpointView, PageView};

/// A new endpoint. `active` and `is_active` are also read as `enabled` (seeds 001 and 004).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"url": "https://example.com/webhooks", "events": ["run.failed"]}))]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where deliveries are POSTed; the deployment's URL policy decides which are allowed.
    #[schema(example = "https://example.com/webhooks")]
    url: String,
    /// Event types and wildcards (`*`, `family.*`); at least one, at most 500.
    #[schema(min_items = 1, max_items = 500)]
    events: Vec<String>,
    /// Per event type or wildcard: entity ids, or payload paths to allowed values.
    #[serde(default)]
    #[schema(inline)]
    event_filters: EventFilters,
    description: Option<String>,
    /// Sent with every delivery.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The tenant's own notes; never sent to receivers.
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    /// Deliveries per second at most.
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    rate_limit: Option<Whole<u32>>,
    /// The tenant's own id for the endpoint: unique within the tenant, and usable in place of
    /// the id in every route.
    #[schema(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$", min_length = 1, max_length = 256)]
    uid: Option<String>,
    /// The signing secret; generated when absent. A `whsk_` key signs with ed25519.
    secret: Option<String>,
    /// `hmac_sha256` (the default) or `ed25519`, for a generated secret.
    signing: Option<Signing>,
    #[serde(alias = "active", alias = "is_active")]
    enabled: Option<bool>,
}

/// Absent fields stay as they are; `description: null` clears it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    url: Option<String>,
    events: Option<Vec<String>>,
    #[schema(inline)]
    event_filters: Option<EventFilters>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    headers: Option<BTreeMap<String, String>>,
    /// Replaces the metadata whole.
    metadata: Option<BTreeMap<String, String>>,
    /// `null` lifts the limit.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    rate_limit: Option<Option<Whole<u32>>>,
    /// `null` drops it; the old uid is free for another endpoint at once.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$", min_length = 1, max_length = 256)]
    uid: Option<Option<String>>,
    secret: Option<String>,
    #[serde(alias = "active", alias = "is_active")]
    enabled: Option<bool>,
}

/// The endpoint of the caller's tenant a path names: by its id (`ep_...`), or else by its
/// uid; `NotFound` for one a portal session does not see.
pub(crate) async fn find_endpoint<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    id_or_uid: &str,
) -> Result<Endpoint, ApiError> {
    let tenant = caller.tenant();
    let endpoint = match EndpointId::parse(id_or_uid) {
        Some(id) if !caller.sees_endpoint(&id) => return Err(ApiError::NotFound),
        Some(id) => app.store.get_endpoint(tenant, &id).await?,
        // What cannot be a uid names nothing, and is not looked up.
        None if is_uid_form(id_or_uid) => app.store.find_endpoint_by_uid(tenant, id_or_uid).await?,
        None => return Err(ApiError::NotFound),
    };
    if caller.sees_endpoint(&endpoint.id) { Ok(endpoint) } else { Err(ApiError::NotFound) }
}

/// The id of the endpoint a path names; read from the store only when the path gives a uid
/// (a route that reads the endpoint anyway answers 404 for an unknown id itself).
pub(crate) async fn endpoint_id<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    id_or_uid: &str,
) -> Result<EndpointId, ApiError> {
    match EndpointId::parse(id_or_uid) {
        Some(id) if caller.sees_endpoint(&id) => Ok(id),
        Some(_) => Err(ApiError::NotFound),
        None => Ok(find_endpoint(app, caller, id_or_uid).await?.id),
    }
}

impl From<NewEndpoint> for NewEndpointFields {
    fn from(input: NewEndpoint) -> Self {
        NewEndpointFields {
            url: input.url,
            events: input.events,
            event_filters: input.event_filters,
            description: input.description,
            headers: input.headers,
            metadata: input.metadata,
            rate_limit: input.rate_limit.map(|limit| limit.0),
            uid: input.uid,
            secret: input.secret,
            signing: input.signing,
            enabled: input.enabled,
        }
    }
}

impl From<EndpointPatch> for EndpointChange {
    fn from(patch: EndpointPatch) -> Self {
        EndpointChange {
            url: patch.url,
            events: patch.events,
            event_filters: patch.event_filters,
            description: patch.description,
            headers: patch.headers,
            metadata: patch.metadata,
            rate_limit: patch.rate_limit.map(|limit| limit.map(|limit| limit.0)),
            uid: patch.uid,
            secret: patch.secret,
            enabled: patch.enabled,
        }
    }
}

/// Create an endpoint; the answer carries its signing secret.
#[utoipa::path(post, path = "/v1/webhooks", operation_id = "create_endpoint", tag = "endpoints", request_body = NewEndpoint,
    responses((status = 201, description = "Created, with its secret", body = CreatedEndpoint)))]
pub async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<NewEndpoint>,
) -> Result<Response, ApiError> {
    let endpoint = create_endpoint(&app, &caller, input).await?;
    Ok((StatusCode::CREATED, Json(CreatedEndpoint::of(&endpoint, app.clock.now()))).into_response())
}

/// Creates the endpoint (also for the dialects, which show it their way).
pub(crate) async fn create_endpoint<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    input: impl Into<NewEndpointFields>,
) -> Result<Endpoint, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    caller.require_every_endpoint()?;
    Ok(app.endpoints().create(caller.tenant(), input.into()).await?)
}

/// List endpoints, oldest first.
#[utoipa::path(get, path = "/v1/webhooks", operation_id = "list_endpoints", tag = "endpoints", params(PageParams),
    responses((status = 200, description = "A page of endpoints", body = PageView<EndpointView>)))]
pub async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    let found = list_endpoints(&app, &caller, page).await?;
    let values = caller.sees_secrets();
    Ok(Json(PageView::of(&found, |endpoint| EndpointView::of(endpoint, values))).into_response())
}

/// A page of the caller's endpoints, oldest first (also for the dialects).
pub(crate) async fn list_endpoints<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    page: PageParams,
) -> Result<Page<Endpoint>, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let query = EndpointQuery { after: page.cursor_id(EndpointId::parse)?, limit: page.limit()? };
    if let Some(allowed) = caller.endpoints() {
        return endpoints_of(app, caller.tenant(), allowed, &query).await;
    }
    Ok(app.store.list_endpoints(caller.tenant(), &query).await?)
}

/// A page of the endpoints a portal session is limited to (those still there), in id order
/// as any listing.
async fn endpoints_of<P: Ports>(
    app: &App<P>,
    tenant: &str,
    allowed: &[EndpointId],
    query: &EndpointQuery,
) -> Result<Page<Endpoint>, ApiError> {
    let mut ids: Vec<&EndpointId> =
        allowed.iter().filter(|id| query.after.as_ref().is_none_or(|after| *id > after)).collect();
    ids.sort();
    let mut found = Vec::new();
    for id in ids {
        match app.store.get_endpoint(tenant, id).await {
            Ok(endpoint) => found.push(endpoint),
            Err(StoreError::NotFound) => {}
            Err(error) => return Err(error.into()),
        }
        if found.len() > query.limit {
            break;
        }
    }
    Ok(into_page(found, query.limit, |endpoint| endpoint.id.as_str()))
}

/// Show an endpoint (never its secret: see `/secret`).
#[utoipa::path(get, path = "/v1/webhooks/{id}", operation_id = "get_endpoint", tag = "endpoints", params(EndpointPath),
    responses((status = 200, description = "The endpoint", body = EndpointView)))]
pub async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let endpoint = show_endpoint(&app, &caller, &id).await?;
    Ok(Json(EndpointView::of(&endpoint, caller.sees_secrets())).into_response())
}

/// Endpoint `id` (its id or uid), to a caller who may read endpoints (also for the dialects).
pub(crate) async fn show_endpoint<P: Ports>(app: &App<P>, caller: &Caller, id: &str) -> Result<Endpoint, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    find_endpoint(app, caller, id).await
}

/// Change an endpoint: absent fields stay as they are.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", operation_id = "update_endpoint", tag = "endpoints", params(EndpointPath), request_body = EndpointPatch,
    responses((status = 200, description = "The endpoint as it now is", body = EndpointView)))]
pub async fn update<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<EndpointPatch>,
) -> Result<Response, ApiError> {
    let updated = update_endpoint(&app, &caller, &id, patch).await?;
    Ok(Json(EndpointView::of(&updated, true)).into_response())
}

/// Applies the patch and answers the endpoint as it now is (also for the dialects).
pub(crate) async fn update_endpoint<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    id: &str,
    patch: impl Into<EndpointChange>,
) -> Result<Endpoint, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let id = endpoint_id(app, caller, id).await?;
    Ok(app.endpoints().change(caller.tenant(), &id, patch.into()).await?)
}

/// Delete an endpoint; its pending deliveries are not sent.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", operation_id = "delete_endpoint", tag = "endpoints", params(EndpointPath),
    responses((status = 204, description = "Deleted")))]
pub async fn delete<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksDelete)?;
    let id = endpoint_id(&app, &caller, &id).await?;
    app.endpoints().delete(caller.tenant(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
