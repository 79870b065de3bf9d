//! `POST /v1/events`: one event or a batch.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use webhooks::model::{EntityId, Scope};
use webhooks::services::events::accept;
use webhooks::validation::IncomingEvent;

use crate::error::ApiError;
use crate::request::{Caller, NoQuery, body_bytes, parse_json};
use crate::state::{App, Ports};

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
