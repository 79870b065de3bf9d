//! `POST /v1/events` (one event or a batch) and the event type catalog.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use webhooks::catalog::event_types as catalog;
use webhooks::ids::GeneratedEventId;
use webhooks::messages::EventEnvelope;
use webhooks::model::{EntityId, Scope};
use webhooks::ports::{Clock, Queue};
use webhooks::validation::{IncomingEvent, MAX_EVENTS_PER_BATCH, MAX_PAYLOAD_BYTES, check_event};

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
    let field_of = |i: usize| if batch { format!("events[{i}].") } else { String::new() };
    if events.is_empty() {
        return Err(ApiError::invalid("events", "must hold at least one event"));
    }
    if events.len() > MAX_EVENTS_PER_BATCH {
        return Err(ApiError::invalid("events", format!("at most {MAX_EVENTS_PER_BATCH} events per request")));
    }
    if let Some(i) = events.iter().position(IncomingEvent::payload_too_large) {
        return Err(ApiError::PayloadTooLarge(format!(
            "{}payload is larger than {} KiB",
            field_of(i),
            MAX_PAYLOAD_BYTES / 1024
        )));
    }
    let mut errors = Vec::new();
    for (i, event) in events.iter().enumerate() {
        check_event(event, &field_of(i), &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let now = app.clock.now();
    let mut ids = Vec::with_capacity(events.len());
    let mut bodies = Vec::with_capacity(events.len());
    for event in events {
        let id = event.id.unwrap_or_else(|| GeneratedEventId::generate(now).to_string());
        let envelope = EventEnvelope {
            tenant: caller.tenant().to_owned(),
            id: Some(id.clone()),
            event_type: event.event_type,
            entity_id: event.entity_id,
            payload: event.payload,
            received_at: Some(now),
            dispatched_from: None,
        };
        bodies.push(serde_json::to_string(&envelope).expect("envelopes serialize"));
        ids.push(id);
    }
    // Answered only once the queue holds them durably: a 202 loses nothing.
    app.events.send_batch(bodies).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "ids": ids }))).into_response())
}

/// The state is only named so that `Caller` authenticates against this deployment's store.
pub async fn event_types<P: Ports>(_: State<Arc<App<P>>>, caller: Caller, _: NoQuery) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    Ok(Json(json!({ "data": catalog() })).into_response())
}
