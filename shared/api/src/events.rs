//! `POST /v1/events` (one event or a batch), and events read back: `GET /v1/events` (newest
//! first, by type and time) and `GET /v1/events/{id}` with its payload and its deliveries.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::events::EntityId;
use webhooks::events::intake::IncomingEvent;
use webhooks::events::store::EventSummary;
use webhooks::events::store::{EventCursor, EventQuery, EventStore};
use webhooks::security::api_keys::Scope;
use webhooks::time::Timestamp;
use webhooks_pipeline::services::events::accept;

use crate::error::ApiError;
use crate::request::{ApiPath, ApiQuery, Caller, NoQuery, PageParams, body_bytes, parse_json};
use crate::state::{App, Ports};
use crate::views::{AcceptedEvents, EventView, PageView};

/// A request body object: either `{"events": [...]}` or one event's fields, read in one pass.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsObject {
    events: Option<Vec<IncomingEvent>>,
    id: Option<String>,
    #[serde(rename = "type", alias = "event_type")]
    event_type: Option<String>,
    entity_id: Option<EntityId>,
    payload: Option<Box<RawValue>>,
}

/// The body of `POST /v1/events`, for the OpenAPI document (`parse_events` reads it, with
/// errors that name the field).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum EventsBody {
    /// One event.
    One(IncomingEvent),
    /// Up to 100 events.
    Batch(EventBatch),
    /// Up to 100 events.
    List(Vec<IncomingEvent>),
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct EventBatch {
    #[schema(max_items = 100)]
    events: Vec<IncomingEvent>,
}

/// `{...event}`, `{"events": [...]}` or `[...]`; answers the events and whether it was a batch.
fn parse_events(body: &[u8]) -> Result<(Vec<IncomingEvent>, bool), ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'[') => Ok((parse_json(body)?, true)),
        Some(b'{') => {
            let object: EventsObject = parse_json(body)?;
            let single_fields = object.id.is_some()
                || object.event_type.is_some()
                || object.entity_id.is_some()
                || object.payload.is_some();
            match (object.events, single_fields) {
                (Some(_), true) => Err(ApiError::invalid("events", "a batch holds only the `events` field")),
                (Some(events), false) => Ok((events, true)),
                (None, _) => {
                    let missing = |field: &str| ApiError::invalid(field, "is required");
                    let event = IncomingEvent {
                        id: object.id,
                        event_type: object.event_type.ok_or_else(|| missing("type"))?,
                        entity_id: object.entity_id,
                        payload: object.payload.ok_or_else(|| missing("payload"))?,
                    };
                    Ok((vec![event], false))
                }
            }
        }
        _ => Err(ApiError::invalid("body", "expected an event object, {\"events\": [...]} or an array of events")),
    }
}

/// Send one event (`{"type", "payload", ...}`), or a batch (`{"events": [...]}` or `[...]`).
/// Answered once the queue holds them; delivery follows.
#[utoipa::path(post, path = "/v1/events", operation_id = "send_events", tag = "events", request_body = EventsBody,
    responses((status = 202, description = "Accepted: the events' ids", body = AcceptedEvents)))]
pub async fn ingest<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::EventsWrite)?;
    let trace = request.extensions().get::<crate::traces::RequestTrace>().and_then(|trace| trace.0);
    let body = body_bytes(request, &()).await?;
    let (events, batch) = parse_events(&body)?;
    // Answered only once the queue holds them durably: a 202 loses nothing.
    let ids = accept(&app.intake(), caller.tenant(), events, batch, trace).await?;
    Ok((StatusCode::ACCEPTED, Json(AcceptedEvents { ids })).into_response())
}

/// `?type=&since=&limit=&cursor=` of the event list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventListParams {
    /// Only events of this type.
    #[serde(rename = "type", alias = "event_type")]
    event_type: Option<String>,
    /// Only events received at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// Items per page: 1 to 100, 20 when absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

/// List events, newest first, without their payloads.
#[utoipa::path(get, path = "/v1/events", operation_id = "list_events", tag = "events", params(EventListParams),
    responses((status = 200, description = "A page of events", body = PageView<EventSummary>)))]
pub async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(params): ApiQuery<EventListParams>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    caller.require_every_endpoint()?;
    let since = params
        .since
        .map(|text| {
            Timestamp::parse_rfc3339(&text)
                .ok_or_else(|| ApiError::invalid("since", "must be an RFC 3339 time, e.g. 2026-03-21T10:00:00Z"))
        })
        .transpose()?;
    let page = PageParams { limit: params.limit, cursor: params.cursor };
    let query = EventQuery {
        event_type: params.event_type,
        since,
        before: page.cursor_id(EventCursor::parse)?,
        limit: page.limit()?,
    };
    let found = app.store.list_events(caller.tenant(), &query).await?;
    Ok(Json(PageView { data: found.items, next_cursor: found.next_cursor }).into_response())
}

/// Show an event: its payload, and its deliveries.
#[utoipa::path(get, path = "/v1/events/{id}", operation_id = "get_event", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, description = "The event", body = EventView)))]
pub async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    caller.require_every_endpoint()?;
    let event = app.store.get_event(caller.tenant(), &id).await?.ok_or(ApiError::NotFound)?;
    let deliveries = app.store.event_deliveries(caller.tenant(), &event.id, event.created_at).await?;
    let view = EventView {
        id: &event.id,
        event_type: &event.event_type,
        entity_id: event.entity_id.as_ref(),
        created_at: event.created_at,
        payload: &event.payload,
        deliveries: &deliveries,
    };
    Ok(Json(view).into_response())
}
