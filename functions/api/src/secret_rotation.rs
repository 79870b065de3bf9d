//! `/v1/webhooks/{id}/secret` and `.../secret/rotate`: an endpoint's signing secret, shown
//! to keys that may write, and replaced with an overlap during which both secrets sign.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use webhooks::model::{PreviousSecret, Scope, Secret};
use webhooks::ports::{Clock, EndpointStore};
use webhooks::signing::generate_secret;
use webhooks::validation::check_secret;

use crate::endpoints::{modify, parse_endpoint_id};
use crate::error::ApiError;
use crate::request::{ApiPath, Caller, NoQuery, optional_json};
use crate::state::{App, Ports};
use crate::views::SecretView;

/// How long a rotated-out secret keeps signing by default.
pub const DEFAULT_ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest overlap a rotation may ask for.
pub const MAX_ROTATION_OVERLAP: Duration = Duration::from_secs(7 * 24 * 60 * 60);

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// The new secret; generated when absent.
    secret: Option<String>,
    /// How long the old secret keeps signing; 24 h when absent, 0 ends it at once.
    overlap_seconds: Option<u64>,
}

pub async fn secret<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let endpoint = app.store.get_endpoint(caller.tenant(), &parse_endpoint_id(&id)?).await?;
    Ok(Json(SecretView::of(&endpoint, app.clock.now())).into_response())
}

pub async fn rotate_secret<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let rotation: Rotation = optional_json(request, &()).await?;
    let overlap = rotation.overlap_seconds.map(Duration::from_secs).unwrap_or(DEFAULT_ROTATION_OVERLAP);
    if overlap > MAX_ROTATION_OVERLAP {
        return Err(ApiError::invalid("overlap_seconds", format!("at most {}", MAX_ROTATION_OVERLAP.as_secs())));
    }
    let mut errors = Vec::new();
    if let Some(secret) = &rotation.secret {
        check_secret(secret, &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let new_secret = rotation.secret.map(Secret::new).unwrap_or_else(generate_secret);
    let now = app.clock.now();
    let rotated = modify(&app, caller.tenant(), &parse_endpoint_id(&id)?, |endpoint| {
        let old = std::mem::replace(&mut endpoint.secret, new_secret.clone());
        endpoint.previous_secret =
            (!overlap.is_zero()).then(|| PreviousSecret { secret: old, expires_at: now.plus(overlap) });
        Ok(())
    })
    .await?;
    Ok(Json(SecretView::of(&rotated, now)).into_response())
}
