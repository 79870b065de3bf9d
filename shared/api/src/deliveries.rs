//! Delivery history (per endpoint, and the tenant's delivery log) and a manual resend (also
//! named retry) of a failed or delivered delivery.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use webhooks::deliveries::store::{DeliveryQuery, DeliveryStore};
use webhooks::deliveries::{Delivery, DeliveryStatus};
use webhooks::ids::DeliveryId;
use webhooks::security::api_keys::Scope;
use webhooks_pipeline::attempt::{Delivering, headers_sent};
use webhooks_pipeline::services::deliveries::retry as retry_delivery;

use crate::endpoints::{endpoint_id, find_endpoint};
use crate::error::ApiError;
use crate::request::{ApiPath, ApiQuery, Caller, DeliveryPath, EndpointPath, NoQuery, PageParams};
use crate::state::{App, Ports};
use crate::views::{DeliveryDetailView, PageView};

/// `?status=&event_type=&limit=&cursor=` of the delivery lists.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFilter {
    /// Only deliveries in this state.
    #[param(value_type = Option<DeliveryStatus>)]
    status: Option<String>,
    /// Only deliveries of events of this type.
    event_type: Option<String>,
    /// Items per page: 1 to 100, 20 when absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

impl DeliveryFilter {
    fn query(self) -> Result<DeliveryQuery, ApiError> {
        let page = PageParams { limit: self.limit, cursor: self.cursor };
        let status = match self.status.as_deref() {
            None => None,
            Some(text) => Some(
                DeliveryStatus::parse(text)
                    .ok_or_else(|| ApiError::invalid("status", "must be pending, delivered or failed"))?,
            ),
        };
        Ok(DeliveryQuery {
            endpoint_id: None,
            status,
            event_type: self.event_type,
            before: page.cursor_id(DeliveryId::parse)?,
            limit: page.limit()?,
        })
    }
}

/// An endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", operation_id = "list_endpoint_deliveries", tag = "deliveries", params(EndpointPath, DeliveryFilter),
    responses((status = 200, description = "A page of deliveries", body = PageView<Delivery>)))]
pub async fn list_for_endpoint<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let endpoint = find_endpoint(&app, &caller, &id).await?;
    let mut query = filter.query()?;
    query.endpoint_id = Some(endpoint.id);
    let page = app.store.list_deliveries(caller.tenant(), &query).await?;
    Ok(Json(PageView { data: page.items, next_cursor: page.next_cursor }).into_response())
}

/// `GET /v1/deliveries`: the delivery log, every endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/v1/deliveries", operation_id = "list_deliveries", tag = "deliveries", params(DeliveryFilter),
    responses((status = 200, description = "A page of deliveries", body = PageView<Delivery>)))]
pub async fn delivery_log<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    caller.require_every_endpoint()?;
    let page = app.store.list_deliveries(caller.tenant(), &filter.query()?).await?;
    Ok(Json(PageView { data: page.items, next_cursor: page.next_cursor }).into_response())
}

/// A delivery with its payload and every attempt.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries/{delivery_id}", operation_id = "get_delivery", tag = "deliveries", params(DeliveryPath),
    responses((status = 200, description = "The delivery", body = DeliveryDetailView)))]
pub async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath((id, delivery_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let endpoint = find_endpoint(&app, &caller, &id).await?;
    let delivery_id = DeliveryId::parse(&delivery_id).ok_or(ApiError::NotFound)?;
    let detail = app.store.get_delivery(caller.tenant(), &endpoint.id, &delivery_id).await?;
    // The last attempt's headers; the signatures need the payload, so none once it is gone.
    let request_headers = detail.attempts.last().zip(detail.payload.as_deref()).map(|(attempt, payload)| {
        let delivering = Delivering {
            delivery_id: &detail.delivery.id,
            event_type: &detail.delivery.event_type,
            payload: Bytes::copy_from_slice(payload.get().as_bytes()),
        };
        headers_sent(&endpoint, &delivering, attempt.at, caller.sees_secrets())
    });
    let view = DeliveryDetailView {
        delivery: &detail.delivery,
        payload: detail.payload.as_deref(),
        attempt_log: &detail.attempts,
        request_headers,
    };
    Ok(Json(view).into_response())
}

/// Send a failed or delivered delivery again, with the same id (once per ask).
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", operation_id = "retry_delivery", tag = "deliveries", params(DeliveryPath),
    responses((status = 202, description = "Queued again", body = Delivery)))]
pub async fn retry<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath((id, delivery_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let endpoint_id = endpoint_id(&app, &caller, &id).await?;
    let delivery_id = DeliveryId::parse(&delivery_id).ok_or(ApiError::NotFound)?;
    let delivery =
        retry_delivery(&app.store, &app.deliveries, &app.clock, caller.tenant(), &endpoint_id, &delivery_id).await?;
    Ok((StatusCode::ACCEPTED, Json(&delivery)).into_response())
}

/// `/resend` is `/retry` under the name Svix gives it.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/resend", operation_id = "resend_delivery", tag = "deliveries", params(DeliveryPath),
    responses((status = 202, description = "Queued again", body = Delivery)))]
pub async fn resend<P: Ports>(
    app: State<Arc<App<P>>>,
    caller: Caller,
    query: NoQuery,
    path: ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    retry(app, caller, query, path).await
}
