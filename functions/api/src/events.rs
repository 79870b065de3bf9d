//! `POST /v1/events` (one event or a batch), and events read back: `GET /v1/events` (newest
//! first, by type and time) and `GET /v1/events/{id}` with its payload and its deliveries.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use webhooks::model::{Delivery, EntityId, Scope};
use webhooks::ports::{DeliveryStore, EventCursor, EventQuery, EventStore};
use webhooks::services::events::accept;
use webhooks::time::Timestamp;
use webhooks::validation::IncomingEvent;

use crate::error::ApiError;
use crate::request::{ApiPath, ApiQuery, Caller, NoQuery, PageParams, body_bytes, parse_json};
use crate::state::{App, Ports};
use crate::views::PageView;

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

pub async fn ingest<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require(Scope::EventsWrite)?;
    let body = body_bytes(request, &()).await?;
    let (events, batch) = parse_events(&body)?;
    // Answered only once the queue holds them durably: a 202 loses nothing.
    let ids = accept(&app.intake(), caller.tenant(), events, batch).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "ids": ids }))).into_response())
}

/// `?type=&since=&limit=&cursor=` of the event list.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventListParams {
    #[serde(rename = "type", alias = "event_type")]
    event_type: Option<String>,
    since: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

pub async fn list<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiQuery(params): ApiQuery<EventListParams>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
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

/// An event read back: what the producer sent, when it was received, where it went.
#[derive(Serialize)]
struct EventView<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    entity_id: Option<&'a EntityId>,
    created_at: Timestamp,
    payload: &'a RawValue,
    /// One per endpoint it went to (or was kept from, while disabled).
    deliveries: &'a [Delivery],
}

pub async fn show<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
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
