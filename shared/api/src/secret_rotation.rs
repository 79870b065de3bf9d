//! `/v1/webhooks/{id}/secret` and `.../secret/rotate`: an endpoint's signing secret, shown
//! to keys that may write, and replaced with an overlap during which both secrets sign.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use webhooks::ports::Clock;
use webhooks::security::api_keys::Scope;
use webhooks_pipeline::services::endpoints::SecretRotation;

use crate::endpoints::{endpoint_id, find_endpoint};
use crate::error::ApiError;
use crate::request::{ApiPath, Caller, EndpointPath, NoQuery, Whole, optional_json};
use crate::state::{App, Ports};
use crate::views::SecretView;

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// The new secret; generated when absent.
    secret: Option<String>,
    /// The new secret's scheme (`hmac_sha256` or `ed25519`); the current one's when absent.
    signing: Option<webhooks::security::signing::Signing>,
    /// How long the old secret keeps signing; 24 h when absent, 0 ends it at once.
    #[schema(value_type = Option<u64>)]
    overlap_seconds: Option<Whole<u64>>,
}

/// The endpoint's signing secret, in both forms.
#[utoipa::path(get, path = "/v1/webhooks/{id}/secret", operation_id = "get_endpoint_secret", tag = "endpoints", params(EndpointPath),
    responses((status = 200, description = "The secret", body = SecretView)))]
pub async fn secret<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let endpoint = find_endpoint(&app, &caller, &id).await?;
    Ok(Json(SecretView::of(&endpoint, app.clock.now())).into_response())
}

/// Replace the secret; the old one keeps signing beside it for the overlap.
#[utoipa::path(post, path = "/v1/webhooks/{id}/secret/rotate", operation_id = "rotate_endpoint_secret", tag = "endpoints", params(EndpointPath),
    request_body(content = Option<Rotation>, description = "May be left out"),
    responses((status = 200, description = "The new secret", body = SecretView)))]
pub async fn rotate_secret<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let rotation: Rotation = optional_json(request, &()).await?;
    let rotation = SecretRotation {
        secret: rotation.secret,
        signing: rotation.signing,
        overlap: rotation.overlap_seconds.map(|seconds| Duration::from_secs(seconds.0)),
    };
    let id = endpoint_id(&app, &caller, &id).await?;
    let rotated = app.endpoints().rotate_secret(caller.tenant(), &id, rotation).await?;
    let now = app.clock.now();
    Ok(Json(SecretView::of(&rotated, now)).into_response())
}
