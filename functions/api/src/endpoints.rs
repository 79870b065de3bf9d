//! `/v1/webhooks`: create, list, show, update, delete; the secret and its rotation.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use webhooks::ids::EndpointId;
use webhooks::model::{Endpoint, EntityId, Scope, Secret};
use webhooks::ports::{Clock, EndpointQuery, EndpointStore, StoreError};
use webhooks::signing::generate_secret;
use webhooks::url_guard::UrlPolicy;
use webhooks::validation::{EndpointFields, check_endpoint, check_secret};

use crate::error::ApiError;
use crate::request::{ApiJson, ApiPath, ApiQuery, Caller, NoQuery, PageParams};
use crate::state::{App, Ports};
use crate::views::{CreatedEndpoint, EndpointView, PageView, SecretView};

/// Attempts at a read-modify-write before answering 409.
const UPDATE_ATTEMPTS: usize = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    event_filters: BTreeMap<String, Vec<EntityId>>,
    description: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    rate_limit: Option<u32>,
    secret: Option<String>,
    #[serde(alias = "active", alias = "is_active")]
    enabled: Option<bool>,
}

/// Absent fields stay as they are; `description: null` clears it.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    url: Option<String>,
    events: Option<Vec<String>>,
    event_filters: Option<BTreeMap<String, Vec<EntityId>>>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    headers: Option<BTreeMap<String, String>>,
    /// `null` lifts the limit.
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Option<u32>>,
    secret: Option<String>,
    #[serde(alias = "active", alias = "is_active")]
    enabled: Option<bool>,
}

/// Tells `"field": null` (Some(None)) from an absent field (None, via `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

pub(crate) fn parse_endpoint_id(text: &str) -> Result<EndpointId, ApiError> {
    EndpointId::parse(text).ok_or(ApiError::NotFound)
}

fn validate(endpoint: &Endpoint, new_secret: Option<&str>, url_policy: &UrlPolicy) -> Result<(), ApiError> {
    let fields = EndpointFields {
        url: &endpoint.url,
        events: &endpoint.events,
        event_filters: &endpoint.event_filters,
        description: endpoint.description.as_deref(),
        headers: &endpoint.headers,
        rate_limit: endpoint.rate_limit,
    };
    let mut errors = check_endpoint(&fields, url_policy);
    if let Some(secret) = new_secret {
        check_secret(secret, &mut errors);
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

pub async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<NewEndpoint>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let now = app.clock.now();
    let secret = input.secret.clone().map(Secret::new).unwrap_or_else(generate_secret);
    let endpoint = Endpoint {
        event_filters: input.event_filters,
        description: input.description,
        headers: input.headers,
        rate_limit: input.rate_limit,
        enabled: input.enabled.unwrap_or(true),
        ..Endpoint::new(caller.tenant().to_owned(), input.url, input.events, secret, now)
    };
    validate(&endpoint, input.secret.as_deref(), &app.settings.url_policy)?;
    // Read, then write: concurrent creates can pass the limit by their number, no more.
    let max = app.settings.max_endpoints;
    let existing = app.store.list_endpoints(caller.tenant(), &EndpointQuery { after: None, limit: max }).await?;
    if existing.items.len() >= max {
        return Err(ApiError::LimitReached(format!(
            "this tenant has reached its limit of {max} endpoints; delete one first"
        )));
    }
    app.store.create_endpoint(&endpoint).await?;
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
    caller.require(Scope::WebhooksRead)?;
    let endpoint = app.store.get_endpoint(caller.tenant(), &parse_endpoint_id(&id)?).await?;
    let view = EndpointView::from(&endpoint).header_values(caller.0.allows(Scope::WebhooksWrite));
    Ok(Json(view).into_response())
}

/// Reads the endpoint, applies `change`, and writes it back if nobody wrote in between;
/// otherwise starts over.
pub(crate) async fn modify<P: Ports>(
    app: &App<P>,
    tenant: &str,
    id: &EndpointId,
    change: impl Fn(&mut Endpoint) -> Result<(), ApiError>,
) -> Result<Endpoint, ApiError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let mut endpoint = app.store.get_endpoint(tenant, id).await?;
        change(&mut endpoint)?;
        endpoint.updated_at = app.clock.now();
        match app.store.update_endpoint(&endpoint).await {
            Err(StoreError::Conflict(_)) => continue,
            other => return Ok(other?),
        }
    }
    Err(ApiError::Conflict("the endpoint is being changed by another request; try again".into()))
}

pub async fn update<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<EndpointPatch>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksWrite)?;
    let url_policy = &app.settings.url_policy;
    let updated = modify(&app, caller.tenant(), &parse_endpoint_id(&id)?, |endpoint| {
        let patch = patch.clone();
        if let Some(url) = patch.url {
            endpoint.url = url;
        }
        if let Some(events) = patch.events {
            endpoint.events = events;
        }
        if let Some(filters) = patch.event_filters {
            endpoint.event_filters = filters;
        }
        if let Some(description) = patch.description {
            endpoint.description = description;
        }
        if let Some(headers) = patch.headers {
            endpoint.headers = headers;
        }
        if let Some(rate_limit) = patch.rate_limit {
            endpoint.rate_limit = rate_limit;
        }
        if let Some(secret) = &patch.secret {
            endpoint.secret = Secret::new(secret.clone());
            endpoint.previous_secret = None;
        }
        match patch.enabled {
            Some(true) if !endpoint.enabled => {
                // Re-enabling starts the failure count afresh.
                endpoint.enabled = true;
                endpoint.failure_count = 0;
                endpoint.disabled_reason = None;
            }
            Some(false) => endpoint.enabled = false,
            _ => {}
        }
        validate(endpoint, patch.secret.as_deref(), url_policy)
    })
    .await?;
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
