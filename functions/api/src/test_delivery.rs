//! `POST /v1/webhooks/{id}/test`: one signed test event sent at once, answered with how it
//! went (`{delivered, http_status, response_time_ms, error?}`), and kept in the history. The
//! recipe is the core's test delivery service, which sends as the sender does.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use webhooks::catalog::TEST_EVENT_TYPE;
use webhooks::model::Scope;
use webhooks::services::test_delivery::TestDelivery;

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
    let test =
        TestDelivery { store: &app.store, http: &app.http, clock: &app.clock, timeout: app.settings.policy.timeout };
    let outcome = test.send(caller.tenant(), &parse_endpoint_id(&id)?, TEST_EVENT_TYPE).await?;
    Ok(Json(outcome).into_response())
}
