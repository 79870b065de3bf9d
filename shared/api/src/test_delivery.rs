//! `POST /v1/webhooks/{id}/test`: one signed test event (`webhook.test`, or the body's
//! `{"event_type": ...}`: seed 003 sends `workflow.completed`) sent at once, answered with how it
//! went (`{delivered, http_status, response_time_ms, error?}`), and kept in the history. The
//! recipe is the core's test delivery service, which sends as the sender does.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use webhooks::events::default_catalog::TEST_EVENT_TYPE;
use webhooks::security::api_keys::Scope;
use webhooks_pipeline::services::test_delivery::{TestDelivery, TestOutcome};

use crate::endpoints::endpoint_id;
use crate::error::ApiError;
use crate::request::{ApiPath, Caller, EndpointPath, NoQuery, optional_json};
use crate::state::{App, Ports};

/// The optional body: which type the test event has (`webhook.test` when absent).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    event_type: Option<String>,
}

/// Sends a signed test event at once and answers how it went; the attempt is in
/// the history like any other. A failed test does not count towards auto-disable.
#[utoipa::path(post, path = "/v1/webhooks/{id}/test", operation_id = "test_endpoint", tag = "endpoints", params(EndpointPath),
    request_body(content = Option<TestRequest>, description = "May be left out"),
    responses((status = 200, description = "How the test went", body = TestOutcome)))]
pub async fn test<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let TestRequest { event_type } = optional_json(request, &()).await?;
    send_test(&app, &caller, &id, event_type.as_deref().unwrap_or(TEST_EVENT_TYPE)).await
}

/// Sends a test event of `event_type` to endpoint `id` and answers how it went (also for
/// the dialects).
pub(crate) async fn send_test<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    id: &str,
    event_type: &str,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let test =
        TestDelivery { store: &app.store, http: &app.http, clock: &app.clock, timeout: app.settings.policy.timeout };
    let id = endpoint_id(app, caller, id).await?;
    let outcome = test.send(caller.tenant(), &id, event_type).await?;
    Ok(Json(outcome).into_response())
}
