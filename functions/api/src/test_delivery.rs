//! `POST /v1/webhooks/{id}/test`: one signed test event sent at once, answered with how it
//! went (`{delivered, http_status, response_time_ms, error?}`), and kept in the history.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;
use serde_json::value::RawValue;
use webhooks::attempt::{Delivering, attempt_delivery, failure_summary};
use webhooks::catalog::TEST_EVENT_TYPE;
use webhooks::ids::{DeliveryId, GeneratedEventId};
use webhooks::model::{Delivery, DeliveryStatus, Event, Scope};
use webhooks::ports::{Clock, DeliveryStore, EndpointStore, EventStore};
use webhooks::signing::EndpointKeys;

use crate::endpoints::parse_endpoint_id;
use crate::error::ApiError;
use crate::request::{ApiPath, Caller, NoQuery};
use crate::state::{App, Ports};

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
