//! Seed 003's dialect, `/webhooks`: webhook subscriptions with a required `name` (the
//! endpoint's description, up to 255 characters), `headers`, and `active` for `enabled`;
//! delivery logs per subscription (`/webhooks/{id}/logs`) and for the organization
//! (`/webhooks/logs/all?event_type=`), paged by `limit` (default 50, at most 100) and
//! `offset` (at most [`MAX_OFFSET`]); the test sends `workflow.completed`. The organization
//! is the API key's tenant.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use webhooks::deliveries::Delivery;
use webhooks::deliveries::store::{DeliveryQuery, DeliveryStore};
use webhooks::endpoints::Endpoint;
use webhooks::ids::{DeliveryId, EndpointId};
use webhooks::pagination::{MAX_PAGE_SIZE, decode_cursor};
use webhooks::ports::Clock;
use webhooks::security::api_keys::Scope;
use webhooks_pipeline::services::endpoints::{EndpointChange, NewEndpoint};

use super::WithSecret;
use crate::endpoints::{self, find_endpoint};
use crate::error::ApiError;
use crate::request::{
    ApiJson, ApiPath, ApiQuery, Caller, NoParameters, NoQuery, PageParams, optional_json, parse_count, parse_limit,
};
use crate::state::{App, Ports};
use crate::test_delivery;
use crate::views::{EndpointFields, PageView, SecretView};

/// Logs one page may show by default.
pub const DEFAULT_LOGS: usize = 50;
/// The furthest `offset` a log page may start at: offsets are walked, not jumped to.
pub const MAX_OFFSET: usize = 10_000;
/// The type of the event the seed's test sends.
pub const TEST_EVENT: &str = "workflow.completed";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    name: String,
    url: String,
    events: Vec<String>,
    secret: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionPatch {
    name: Option<String>,
    url: Option<String>,
    events: Option<Vec<String>>,
    secret: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    active: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    event_type: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

/// An endpoint as seed 003 shows a subscription: its description is its `name`, and
/// `enabled` reads `active`.
#[derive(Serialize)]
pub struct Subscription<'a> {
    #[serde(flatten)]
    fields: EndpointFields<'a>,
    name: Option<&'a str>,
    active: bool,
}

impl<'a> Subscription<'a> {
    fn of(endpoint: &'a Endpoint, header_values: bool) -> Self {
        Self {
            fields: EndpointFields::of(endpoint, header_values),
            name: endpoint.description.as_deref(),
            active: endpoint.enabled,
        }
    }
}

pub fn routes<P: Ports>() -> Router<Arc<App<P>>> {
    Router::new()
        .route("/webhooks", post(create::<P>).get(list::<P>))
        .route("/webhooks/{id}", get(show::<P>).patch(update::<P>).delete(endpoints::delete::<P>))
        .route("/webhooks/logs/all", get(all_logs::<P>))
        .route("/webhooks/{id}/logs", get(logs::<P>))
        .route("/webhooks/{id}/test", post(test::<P>))
}

/// A required name is a non-blank description.
fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() { Err(ApiError::invalid("name", "must not be blank")) } else { Ok(()) }
}

async fn create<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiJson(input): ApiJson<NewSubscription>,
) -> Result<Response, ApiError> {
    check_name(&input.name)?;
    let new = NewEndpoint {
        url: input.url,
        events: input.events,
        description: Some(input.name),
        headers: input.headers,
        secret: input.secret,
        ..NewEndpoint::default()
    };
    let endpoint = endpoints::create_endpoint(&app, &caller, new).await.map_err(named)?;
    let body = WithSecret {
        endpoint: Subscription::of(&endpoint, true),
        secret: Some(SecretView::of(&endpoint, app.clock.now())),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    let found = endpoints::list_endpoints(&app, &caller, page).await?;
    let values = caller.sees_secrets();
    Ok(Json(PageView::of(&found, |endpoint| Subscription::of(endpoint, values))).into_response())
}

async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let endpoint = endpoints::show_endpoint(&app, &caller, &id).await?;
    Ok(Json(Subscription::of(&endpoint, caller.sees_secrets())).into_response())
}

async fn update<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<SubscriptionPatch>,
) -> Result<Response, ApiError> {
    if let Some(name) = &patch.name {
        check_name(name)?;
    }
    let change = EndpointChange {
        url: patch.url,
        events: patch.events,
        description: patch.name.map(Some),
        headers: patch.headers,
        secret: patch.secret,
        enabled: patch.active,
        ..EndpointChange::default()
    };
    let updated = endpoints::update_endpoint(&app, &caller, &id, change).await.map_err(named)?;
    Ok(Json(Subscription::of(&updated, true)).into_response())
}

/// A field error about the description is about the name, as the seed calls it.
fn named(error: ApiError) -> ApiError {
    match error {
        ApiError::Validation(mut details) => {
            for detail in details.iter_mut().filter(|detail| detail.field == "description") {
                detail.field = "name".into();
            }
            ApiError::Validation(details)
        }
        other => other,
    }
}

async fn logs<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<LogParams>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    if params.event_type.is_some() {
        return Err(ApiError::invalid("event_type", "is taken by /webhooks/logs/all only"));
    }
    let endpoint = find_endpoint(&app, &caller, &id).await?;
    log_page(&app, &caller, Some(endpoint.id), params).await
}

async fn all_logs<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(params): ApiQuery<LogParams>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    log_page(&app, &caller, None, params).await
}

/// `limit` deliveries after skipping `offset`, newest first: the store pages by cursor, so
/// the skipped ones are walked a full page at a time.
async fn log_page<P: Ports>(
    app: &App<P>,
    caller: &Caller,
    endpoint_id: Option<EndpointId>,
    params: LogParams,
) -> Result<Response, ApiError> {
    let limit = parse_limit(params.limit.as_deref(), DEFAULT_LOGS, MAX_PAGE_SIZE)?;
    let offset = parse_count("offset", params.offset.as_deref(), 0, 0..=MAX_OFFSET)?;
    let mut query =
        DeliveryQuery { endpoint_id, event_type: params.event_type, limit: MAX_PAGE_SIZE, ..DeliveryQuery::default() };
    let (mut skipped, mut data): (usize, Vec<Delivery>) = (0, Vec::new());
    loop {
        let page = app.store.list_deliveries(caller.tenant(), &query).await?;
        for delivery in page.items {
            if skipped < offset {
                skipped += 1;
            } else if data.len() < limit {
                data.push(delivery);
            }
        }
        let next = page.next_cursor.as_deref().and_then(decode_cursor).and_then(|id| DeliveryId::parse(&id));
        match next {
            Some(before) if data.len() < limit => query.before = Some(before),
            _ => return Ok(Json(PageView { data, next_cursor: None }).into_response()),
        }
    }
}

/// Sends a test `workflow.completed` event; it appears in the subscription's logs.
async fn test<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let NoParameters {} = optional_json(request, &()).await?;
    test_delivery::send_test(&app, &caller, &id, TEST_EVENT).await
}
