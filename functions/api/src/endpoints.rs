//! `/v1/webhooks`: create, list, show, update, delete (the rules are the endpoint service's).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use webhooks::event_filter::EventFilters;
use webhooks::ids::EndpointId;
use webhooks::model::Scope;
use webhooks::ports::{Clock, EndpointQuery, EndpointStore};
use webhooks::services::endpoints::{EndpointChange, NewEndpoint as NewEndpointFields};

use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, NoQuery, PageParams, present};
use crate::state::{App, Ports};
use crate::views::{CreatedEndpoint, EndpointView, PageView, SecretView, ShownEndpoint};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    event_filters: EventFilters,
    description: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    rate_limit: Option<u32>,
    secret: Option<String>,
    #[serde(alias = "active", alias = "is_active")]
    enabled: Option<bool>,
}

/// Absent fields stay as they are; `description: null` clears it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    url: Option<String>,
    events: Option<Vec<String>>,
    event_filters: Option<EventFilters>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    headers: Option<BTreeMap<String, String>>,
    /// Replaces the metadata whole.
    metadata: Option<BTreeMap<String, String>>,
    /// `null` lifts the limit.
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Option<u32>>,
    secret: Option<String>,
    #[serde(alias = "active", alias = "is_active")]
    enabled: Option<bool>,
}

pub(crate) fn parse_endpoint_id(text: &str) -> Result<EndpointId, ApiError> {
    EndpointId::parse(text).ok_or(ApiError::NotFound)
}

impl From<NewEndpoint> for NewEndpointFields {
    fn from(input: NewEndpoint) -> Self {
        NewEndpointFields {
            url: input.url,
            events: input.events,
            event_filters: input.event_filters,
            description: input.description,
            headers: input.headers,
            metadata: input.metadata,
            rate_limit: input.rate_limit,
            secret: input.secret,
            enabled: input.enabled,
        }
    }
}

impl From<EndpointPatch> for EndpointChange {
    fn from(patch: EndpointPatch) -> Self {
        EndpointChange {
            url: patch.url,
            events: patch.events,
            event_filters: patch.event_filters,
            description: patch.description,
            headers: patch.headers,
            metadata: patch.metadata,
            rate_limit: patch.rate_limit,
            secret: patch.secret,
            enabled: patch.enabled,
        }
    }
}

pub async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<NewEndpoint>,
) -> Result<Response, ApiError> {
    create_endpoint(&app, &caller, input).await
}

/// Creates the endpoint and answers 201 with it and its secret (also for the dialects).
pub(crate) async fn create_endpoint<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    input: impl Into<NewEndpointFields>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let endpoint = app.endpoints().create(caller.tenant(), input.into()).await?;
    let now = app.clock.now();
    let body = CreatedEndpoint { endpoint: EndpointView::from(&endpoint), secret: SecretView::of(&endpoint, now) };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let query = EndpointQuery { after: page.cursor_id(EndpointId::parse)?, limit: page.limit()? };
    let found = app.store.list_endpoints(caller.tenant(), &query).await?;
    let values = caller.0.allows(Scope::WebhooksWrite);
    let data = found.items.iter().map(|endpoint| EndpointView::from(endpoint).header_values(values)).collect();
    let body = PageView { data, next_cursor: found.next_cursor };
    Ok(Json(body).into_response())
}

pub async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    show_endpoint(&app, &caller, &id, false).await
}

/// Answers endpoint `id`, with its secret if `with_secret` (seed 000's show; the caller
/// decides who may see it), and its header values to a key that may write.
pub(crate) async fn show_endpoint<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    id: &str,
    with_secret: bool,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let endpoint = app.store.get_endpoint(caller.tenant(), &parse_endpoint_id(id)?).await?;
    let body = ShownEndpoint {
        endpoint: EndpointView::from(&endpoint).header_values(caller.0.allows(Scope::WebhooksWrite)),
        secret: with_secret.then(|| SecretView::of(&endpoint, app.clock.now())),
    };
    Ok(Json(body).into_response())
}

pub async fn update<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<EndpointPatch>,
) -> Result<Response, ApiError> {
    update_endpoint(&app, &caller, &id, patch).await
}

/// Applies the patch and answers the endpoint as it now is (also for the dialects).
pub(crate) async fn update_endpoint<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    id: &str,
    patch: impl Into<EndpointChange>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let updated = app.endpoints().change(caller.tenant(), &parse_endpoint_id(id)?, patch.into()).await?;
    Ok(Json(EndpointView::from(&updated)).into_response())
}

pub async fn delete<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksDelete)?;
    app.store.delete_endpoint(caller.tenant(), &parse_endpoint_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
