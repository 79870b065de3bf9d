//! `POST /v1/webhooks/{id}/recover`: every failed delivery of the endpoint since a time sent
//! again, as a background job (the pipeline's `services::recover`: the sender works through it a
//! page at a time). Safe to call twice: what one job resent is pending, which the other skips.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use webhooks::ids::EndpointId;
use webhooks::queues::Queue;
use webhooks::security::api_keys::Scope;
use webhooks::time::Timestamp;
use webhooks_pipeline::services::recover::RecoverJob;

use crate::endpoints::find_endpoint;
use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, Caller, EndpointPath, NoQuery};
use crate::state::{App, Ports};

/// Which failed deliveries: those created at or after `since`, and before `until` if given.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"since": "2026-03-21T10:00:00Z"}))]
#[serde(deny_unknown_fields)]
pub struct RecoverRequest {
    /// RFC 3339.
    since: Timestamp,
    /// RFC 3339; now when absent.
    until: Option<Timestamp>,
}

/// The job, queued.
#[derive(Serialize, ToSchema)]
pub struct RecoverQueued {
    endpoint_id: EndpointId,
    since: Timestamp,
    until: Option<Timestamp>,
    /// Always `queued`: the deliveries show their progress (`pending` again, then
    /// `delivered` or `failed`).
    status: &'static str,
}

/// Resend every failed delivery of the endpoint in a time window, in the background.
#[utoipa::path(post, path = "/v1/webhooks/{id}/recover", operation_id = "recover_endpoint", tag = "deliveries",
    params(EndpointPath), request_body = RecoverRequest,
    responses((status = 202, description = "The job is queued", body = RecoverQueued)))]
pub async fn recover<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<RecoverRequest>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    if input.until.is_some_and(|until| until <= input.since) {
        return Err(ApiError::invalid("until", "must be later than since"));
    }
    let endpoint = find_endpoint(&app, &caller, &id).await?;
    let job = RecoverJob::new(caller.tenant(), &endpoint.id, input.since, input.until);
    app.deliveries.send_batch(vec![job.message()]).await?;
    tracing::info!(tenant = caller.tenant(), endpoint_id = %endpoint.id, "recover job queued");
    let body = RecoverQueued { endpoint_id: endpoint.id, since: input.since, until: input.until, status: "queued" };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
