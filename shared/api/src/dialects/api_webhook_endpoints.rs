//! Seed 000's dialect, `/api/webhook_endpoints`: bodies wrapped in `{"webhook_endpoint":
//! {...}}`, the secret shown on create and on show, the event types under the same prefix.
//! Everything else is the canonical handler as it is (`/v1/webhooks`): same fields
//! (`enabled`, `failure_count`, `secret`, ...), scopes, limits and errors. Ids are the
//! service's prefixed strings (`ep_...`), not the seed's integers.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use webhooks::ports::Clock;

use super::WithSecret;
use crate::endpoints::{self, EndpointPatch, NewEndpoint};
use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, Caller, NoQuery};
use crate::state::{App, Ports};
use crate::views::{CreatedEndpoint, EndpointView, SecretView};
use crate::{deliveries, event_types, test_delivery};

/// The seed's request body: the endpoint's fields under `webhook_endpoint`, nothing beside.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wrapped<T> {
    webhook_endpoint: T,
}

pub fn routes<P: Ports>() -> Router<Arc<App<P>>> {
    Router::new()
        .route("/api/webhook_endpoints", post(create::<P>).get(endpoints::list::<P>))
        .route("/api/webhook_endpoints/event_types", get(event_types::list::<P>))
        .route("/api/webhook_endpoints/{id}", get(show::<P>).patch(update::<P>).delete(endpoints::delete::<P>))
        .route("/api/webhook_endpoints/{id}/test", post(test_delivery::test::<P>))
        .route("/api/webhook_endpoints/{id}/deliveries", get(deliveries::list_for_endpoint::<P>))
}

async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<Wrapped<NewEndpoint>>,
) -> Result<Response, ApiError> {
    let endpoint = endpoints::create_endpoint(&app, &caller, input.webhook_endpoint).await?;
    Ok((StatusCode::CREATED, Json(CreatedEndpoint::of(&endpoint, app.clock.now()))).into_response())
}

/// The endpoint with its secret ("always visible via the API", says the seed) to a key that
/// may read it (`webhooks:write`); a read-only key sees the endpoint without it, as on `/v1`.
async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let endpoint = endpoints::show_endpoint(&app, &caller, &id).await?;
    let writer = caller.sees_secrets();
    let body = WithSecret {
        endpoint: EndpointView::of(&endpoint, writer),
        secret: writer.then(|| SecretView::of(&endpoint, app.clock.now())),
    };
    Ok(Json(body).into_response())
}

async fn update<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<Wrapped<EndpointPatch>>,
) -> Result<Response, ApiError> {
    let updated = endpoints::update_endpoint(&app, &caller, &id, patch.webhook_endpoint).await?;
    Ok(Json(EndpointView::of(&updated, true)).into_response())
}
