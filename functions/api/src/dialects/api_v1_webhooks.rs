//! Seed 004's dialect, `/api/v1/webhooks`: the canonical `/v1/webhooks` handlers, their
//! answers wrapped in `{"data": ...}` and `enabled` named `is_active` (which requests already
//! accept). The rest is as on `/v1`: the secret only in the create response, deliveries
//! filtered by `status` with `limit` (default 20, max 100), the test answer `{delivered,
//! http_status, response_time_ms, error?}` unwrapped, 201/204/404 and the error codes.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::error::ApiError;
use crate::state::{App, Ports};
use crate::{MAX_BODY_BYTES, deliveries, endpoints, test_delivery};

pub fn routes<P: Ports>() -> Router<Arc<App<P>>> {
    let wrapped = Router::new()
        .route("/api/v1/webhooks", post(endpoints::create::<P>).get(endpoints::list::<P>))
        .route(
            "/api/v1/webhooks/{id}",
            get(endpoints::show::<P>).patch(endpoints::update::<P>).delete(endpoints::delete::<P>),
        )
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries::list_for_endpoint::<P>))
        .layer(map_response(in_data));
    // The seed shows the test's answer bare.
    wrapped.route("/api/v1/webhooks/{id}/test", post(test_delivery::test::<P>))
}

/// A successful JSON answer as the seed shows it: a page keeps its `data` (and cursor), one
/// object goes under `data`; `enabled` reads `is_active`. Errors and 204 pass unchanged.
async fn in_data(response: Response) -> Response {
    if !response.status().is_success() || response.status() == StatusCode::NO_CONTENT {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * MAX_BODY_BYTES).await else {
        return ApiError::Internal("reading an answer to wrap it".into()).into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let is_page = value.get("data").is_some_and(Value::is_array);
    match (&mut value, is_page) {
        (Value::Object(page), true) => {
            for item in page.get_mut("data").and_then(Value::as_array_mut).into_iter().flatten() {
                rename_enabled(item);
            }
        }
        (item, _) => {
            rename_enabled(item);
            value = serde_json::json!({ "data": value });
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    (parts, Json(value)).into_response()
}

fn rename_enabled(item: &mut Value) {
    if let Some(object) = item.as_object_mut()
        && let Some(enabled) = object.remove("enabled")
    {
        object.insert("is_active".to_owned(), enabled);
    }
}
