//! Seed 004's dialect, `/api/v1/webhooks`: the canonical `/v1/webhooks` handlers, their
//! answers wrapped in `{"data": ...}` and `enabled` named `is_active` (which requests already
//! accept). The rest is as on `/v1`: the secret only in the create response, deliveries
//! filtered by `status` with `limit` (default 20, max 100), the test answer `{delivered,
//! http_status, response_time_ms, error?}` unwrapped, 201/204/404 and the error codes.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{items, rename, rewrite_json};
use crate::state::{App, Ports};
use crate::{deliveries, endpoints, test_delivery};

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

/// A successful answer as the seed shows it: a page keeps its `data` (and cursor), one
/// object goes under `data`; `enabled` reads `is_active`. Errors and 204 pass unchanged.
async fn in_data(response: Response) -> Response {
    if !response.status().is_success() || response.status() == StatusCode::NO_CONTENT {
        return response;
    }
    rewrite_json(response, |_, value| {
        let is_page = value.get("data").is_some_and(Value::is_array);
        for item in items(value) {
            rename(item, "enabled", "is_active");
        }
        if !is_page {
            *value = json!({ "data": value.take() });
        }
    })
    .await
}
