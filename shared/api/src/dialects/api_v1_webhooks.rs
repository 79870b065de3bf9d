//! Seed 004's dialect, `/api/v1/webhooks`: the canonical `/v1/webhooks` handlers' cores, an
//! endpoint shown as [`ActiveEndpoint`] (`enabled` named `is_active`, which requests already
//! accept) and one endpoint under `{"data": ...}`. The rest is as on `/v1`: the secret only
//! in the create response, deliveries filtered by `status` with `limit` (default 20, max
//! 100), the test answer `{delivered, http_status, response_time_ms, error?}` unwrapped,
//! 201/204/404 and the error codes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use webhooks::endpoints::Endpoint;
use webhooks::ports::Clock;

use super::WithSecret;
use crate::endpoints::{self, EndpointPatch, NewEndpoint};
use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, NoQuery, PageParams};
use crate::state::{App, Ports};
use crate::views::{EndpointFields, PageView, SecretView};
use crate::{deliveries, test_delivery};

/// An endpoint as seed 004 shows it.
#[derive(Serialize)]
pub struct ActiveEndpoint<'a> {
    #[serde(flatten)]
    fields: EndpointFields<'a>,
    description: Option<&'a str>,
    is_active: bool,
}

impl<'a> ActiveEndpoint<'a> {
    fn of(endpoint: &'a Endpoint, header_values: bool) -> Self {
        Self {
            fields: EndpointFields::of(endpoint, header_values),
            description: endpoint.description.as_deref(),
            is_active: endpoint.enabled,
        }
    }
}

/// One object, as the seed answers it.
#[derive(Serialize)]
struct Data<T> {
    data: T,
}

pub fn routes<P: Ports>() -> Router<Arc<App<P>>> {
    Router::new()
        .route("/api/v1/webhooks", post(create::<P>).get(list::<P>))
        .route("/api/v1/webhooks/{id}", get(show::<P>).patch(update::<P>).delete(endpoints::delete::<P>))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries::list_for_endpoint::<P>))
        .route("/api/v1/webhooks/{id}/test", post(test_delivery::test::<P>))
}

async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<NewEndpoint>,
) -> Result<Response, ApiError> {
    let endpoint = endpoints::create_endpoint(&app, &caller, input).await?;
    let body = WithSecret {
        endpoint: ActiveEndpoint::of(&endpoint, true),
        secret: Some(SecretView::of(&endpoint, app.clock.now())),
    };
    Ok((StatusCode::CREATED, Json(Data { data: body })).into_response())
}

async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    let found = endpoints::list_endpoints(&app, &caller, page).await?;
    let values = caller.sees_secrets();
    Ok(Json(PageView::of(&found, |endpoint| ActiveEndpoint::of(endpoint, values))).into_response())
}

async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let endpoint = endpoints::show_endpoint(&app, &caller, &id).await?;
    Ok(Json(Data { data: ActiveEndpoint::of(&endpoint, caller.sees_secrets()) }).into_response())
}

async fn update<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<EndpointPatch>,
) -> Result<Response, ApiError> {
    let updated = endpoints::update_endpoint(&app, &caller, &id, patch).await?;
    Ok(Json(Data { data: ActiveEndpoint::of(&updated, true) }).into_response())
}
