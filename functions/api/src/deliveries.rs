//! Delivery history, manual retry, and the test route.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use webhooks::attempt::{Delivering, attempt_delivery, failure_summary};
use webhooks::catalog::TEST_EVENT_TYPE;
use webhooks::ids::{DeliveryId, GeneratedEventId};
use webhooks::messages::DeliveryMessage;
use webhooks::model::{Attempt, Delivery, DeliveryStatus, Event, Scope};
use webhooks::ports::{Clock, DeliveryQuery, Queue, Store};
use webhooks::signing::EndpointKeys;

use crate::endpoints::parse_endpoint_id;
use crate::error::ApiError;
use crate::request::{ApiPath, ApiQuery, Caller, NoQuery, PageParams};
use crate::views::PageView;
use crate::{App, Ports};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFilter {
    status: Option<String>,
    event_type: Option<String>,
    limit: Option<String>,
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

#[derive(Serialize)]
struct DeliveryDetailView<'a> {
    #[serde(flatten)]
    delivery: &'a Delivery,
    payload: Option<&'a RawValue>,
    attempt_log: &'a [Attempt],
}

pub async fn list_for_endpoint<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let endpoint = app.store.get_endpoint(caller.tenant(), &parse_endpoint_id(&id)?).await?;
    let mut query = filter.query()?;
    query.endpoint_id = Some(endpoint.id);
    let page = app.store.list_deliveries(caller.tenant(), &query).await?;
    Ok(Json(PageView { data: page.items, next_cursor: page.next_cursor }).into_response())
}

pub async fn list_for_tenant<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let page = app.store.list_deliveries(caller.tenant(), &filter.query()?).await?;
    Ok(Json(PageView { data: page.items, next_cursor: page.next_cursor }).into_response())
}

/// The delivery `delivery_id` of endpoint `id`, or 404 (also for another tenant's or another
/// endpoint's delivery).
async fn find_delivery<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    id: &str,
    delivery_id: &str,
) -> Result<webhooks::model::DeliveryDetail, ApiError> {
    let endpoint_id = parse_endpoint_id(id)?;
    let delivery_id = DeliveryId::parse(delivery_id).ok_or(ApiError::NotFound)?;
    Ok(app.store.get_delivery(caller.tenant(), &endpoint_id, &delivery_id).await?)
}

pub async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath((id, delivery_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let detail = find_delivery(&app, &caller, &id, &delivery_id).await?;
    let view = DeliveryDetailView {
        delivery: &detail.delivery,
        payload: detail.payload.as_deref(),
        attempt_log: &detail.attempts,
    };
    Ok(Json(view).into_response())
}

pub async fn retry<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath((id, delivery_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let detail = find_delivery(&app, &caller, &id, &delivery_id).await?;
    if detail.delivery.status != DeliveryStatus::Failed {
        return Err(ApiError::Conflict(format!(
            "only failed deliveries can be retried; this one is {}",
            detail.delivery.status.as_str()
        )));
    }
    if detail.payload.is_none() {
        return Err(ApiError::Conflict("the event's payload is no longer retained".into()));
    }
    let mut delivery = detail.delivery;
    let message = DeliveryMessage {
        id: delivery.id.clone(),
        tenant: delivery.tenant.clone(),
        endpoint_id: delivery.endpoint_id.clone(),
        event_id: delivery.event_id.clone(),
        event_type: delivery.event_type.clone(),
        created_at: delivery.created_at,
        payload: None,
        attempts_before: 0,
        deferrals: 0,
    };
    let body = serde_json::to_string(&message).expect("delivery messages serialize");
    // Enqueued first: if that fails, the history still says failed (and retryable). Marked
    // pending only if no send has changed it since it was read.
    app.deliveries.send_batch(vec![body]).await?;
    let now = app.clock.now();
    app.store.requeue_delivery(&delivery.tenant, &delivery.endpoint_id, &delivery.id, delivery.attempts, now).await?;
    delivery.status = DeliveryStatus::Pending;
    delivery.next_retry_at = Some(now);
    Ok((StatusCode::ACCEPTED, Json(&delivery)).into_response())
}

/// Sends a signed `webhook.test` event at once and answers how it went; the attempt is in
/// the history like any other. A failed test does not count towards auto-disable.
pub async fn test<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let endpoint = app.store.get_endpoint(caller.tenant(), &parse_endpoint_id(&id)?).await?;
    let now = app.clock.now();
    let event_id = GeneratedEventId::generate(now).to_string();
    let payload = json!({
        "id": event_id,
        "event": TEST_EVENT_TYPE,
        "timestamp": now,
        "tenant_id": endpoint.tenant,
        "data": {"message": "Test webhook", "endpoint_id": endpoint.id},
    });
    let payload = RawValue::from_string(payload.to_string()).expect("serialized JSON is valid");
    let event = Event {
        tenant: endpoint.tenant.clone(),
        id: event_id.clone(),
        event_type: TEST_EVENT_TYPE.to_owned(),
        entity_id: None,
        payload,
        created_at: now,
    };
    app.store.record_event(&event, &event_id).await?;
    let delivery_id = DeliveryId::for_event(&event.tenant, &event.id, &endpoint.id, now);
    let delivering = Delivering {
        delivery_id: &delivery_id,
        event_type: TEST_EVENT_TYPE,
        payload: Bytes::copy_from_slice(event.payload.get().as_bytes()),
    };
    let keys = EndpointKeys::for_endpoint(&endpoint, now);
    let (attempt, _) =
        attempt_delivery(&app.http, &endpoint, &keys, &delivering, now, app.settings.policy.timeout).await;
    let delivered = attempt.succeeded();
    let delivery = Delivery {
        id: delivery_id.clone(),
        tenant: endpoint.tenant.clone(),
        endpoint_id: endpoint.id.clone(),
        event_id,
        event_type: TEST_EVENT_TYPE.to_owned(),
        status: if delivered { DeliveryStatus::Delivered } else { DeliveryStatus::Failed },
        http_status: attempt.http_status,
        attempts: 0,
        created_at: now,
        delivered_at: delivered.then(|| now.plus(std::time::Duration::from_millis(attempt.duration_ms))),
        next_retry_at: None,
        last_error: (!delivered).then(|| failure_summary(&attempt)),
    };
    app.store.save_delivery(&delivery, Some(&attempt)).await?;
    let mut body = json!({
        "delivered": delivered,
        "http_status": attempt.http_status,
        "response_time_ms": attempt.duration_ms,
        "delivery_id": delivery_id,
    });
    if !delivered {
        body["error"] = json!(failure_summary(&attempt));
    }
    Ok(Json(body).into_response())
}
