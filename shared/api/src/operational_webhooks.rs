//! `/v1/operational-webhooks`: the operator's own endpoints, which receive events about the
//! service itself (`endpoint.created`, `endpoint.disabled`, `delivery.failing`, ...; see
//! `webhooks::events::operational`). An admin key manages them; each route is the endpoint
//! route of the same shape, run on the operator's reserved tenant, so the bodies, answers,
//! signing, retries and history are an endpoint's.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use webhooks::deliveries::Delivery;
use webhooks::events::operational::OperationalType;

use crate::deliveries::{self, DeliveryFilter};
use crate::endpoints::{self, EndpointPatch, NewEndpoint};
use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, EndpointPath, NoQuery, PageParams};
use crate::state::{App, Ports};
use crate::views::{CreatedEndpoint, EndpointView, ListView, PageView};

/// Subscribe an endpoint of yours to the service's operational events (admin only).
#[utoipa::path(post, path = "/v1/operational-webhooks", operation_id = "create_operational_webhook", tag = "operational webhooks", request_body = NewEndpoint,
    responses((status = 201, description = "Created, with its secret", body = CreatedEndpoint)))]
pub async fn create<P: Ports>(
    app: State<Arc<App<P>>>,
    caller: Caller,
    query: NoQuery,
    body: ApiJson<NewEndpoint>,
) -> Result<Response, ApiError> {
    endpoints::create(app, caller.as_operator()?, query, body).await
}

/// The operational webhooks, oldest first (admin only).
#[utoipa::path(get, path = "/v1/operational-webhooks", operation_id = "list_operational_webhooks", tag = "operational webhooks", params(PageParams),
    responses((status = 200, description = "A page of operational webhooks", body = PageView<EndpointView>)))]
pub async fn list<P: Ports>(
    app: State<Arc<App<P>>>,
    caller: Caller,
    page: ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    endpoints::list(app, caller.as_operator()?, page).await
}

/// One operational webhook (admin only).
#[utoipa::path(get, path = "/v1/operational-webhooks/{id}", operation_id = "get_operational_webhook", tag = "operational webhooks", params(EndpointPath),
    responses((status = 200, description = "The operational webhook", body = EndpointView)))]
pub async fn show<P: Ports>(
    app: State<Arc<App<P>>>,
    caller: Caller,
    query: NoQuery,
    id: ApiPath<String>,
) -> Result<Response, ApiError> {
    endpoints::show(app, caller.as_operator()?, query, id).await
}

/// Change an operational webhook (admin only): absent fields stay as they are.
#[utoipa::path(patch, path = "/v1/operational-webhooks/{id}", operation_id = "update_operational_webhook", tag = "operational webhooks", params(EndpointPath), request_body = EndpointPatch,
    responses((status = 200, description = "The operational webhook as it now is", body = EndpointView)))]
pub async fn update<P: Ports>(
    app: State<Arc<App<P>>>,
    caller: Caller,
    query: NoQuery,
    id: ApiPath<String>,
    patch: ApiJson<EndpointPatch>,
) -> Result<Response, ApiError> {
    endpoints::update(app, caller.as_operator()?, query, id, patch).await
}

/// Delete an operational webhook (admin only).
#[utoipa::path(delete, path = "/v1/operational-webhooks/{id}", operation_id = "delete_operational_webhook", tag = "operational webhooks", params(EndpointPath),
    responses((status = 204, description = "Deleted")))]
pub async fn delete<P: Ports>(
    app: State<Arc<App<P>>>,
    caller: Caller,
    query: NoQuery,
    id: ApiPath<String>,
) -> Result<Response, ApiError> {
    endpoints::delete(app, caller.as_operator()?, query, id).await
}

/// An operational webhook's deliveries, newest first (admin only).
#[utoipa::path(get, path = "/v1/operational-webhooks/{id}/deliveries", operation_id = "list_operational_webhook_deliveries", tag = "operational webhooks", params(EndpointPath, DeliveryFilter),
    responses((status = 200, description = "A page of deliveries", body = PageView<Delivery>)))]
pub async fn list_deliveries<P: Ports>(
    app: State<Arc<App<P>>>,
    caller: Caller,
    id: ApiPath<String>,
    filter: ApiQuery<DeliveryFilter>,
) -> Result<Response, ApiError> {
    deliveries::list_for_endpoint(app, caller.as_operator()?, id, filter).await
}

/// An operational event type.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OperationalTypeView {
    name: &'static str,
    description: &'static str,
}

/// The operational event types an operational webhook may subscribe to. Each body is
/// `{"type", "timestamp", "data": {"tenant", "endpoint_id", "delivery_id"?, "reason"?,
/// "failures"?}}`.
#[utoipa::path(get, path = "/v1/operational-webhooks/event-types", operation_id = "list_operational_event_types", tag = "operational webhooks",
    responses((status = 200, description = "Every operational event type", body = ListView<OperationalTypeView>)))]
pub async fn event_types(caller: Caller, _: NoQuery) -> Result<Response, ApiError> {
    caller.as_operator()?;
    let data = OperationalType::ALL.map(|t| OperationalTypeView { name: t.name(), description: t.description() });
    Ok(Json(ListView { data: data.into() }).into_response())
}
