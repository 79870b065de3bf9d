//! Events as producers send them: their limits and checks, and the entity id read from a
//! payload.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::events::EntityId;
use crate::events::types::is_valid_type_name;
use crate::validation::{FieldError, MAX_JSON_DEPTH, json_depth};

pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
pub const MAX_EVENTS_PER_BATCH: usize = 100;
pub const MAX_EVENT_ID_LEN: usize = 128;
pub const MAX_ENTITY_ID_LEN: usize = 128;

/// An event as producers submit it.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = NewEvent,
    example = json!({"type": "run.failed", "payload": {"run_id": "r_1"}})))]
#[serde(deny_unknown_fields)]
pub struct IncomingEvent {
    /// The producer's id, up to 128 characters; generated when absent. Sent again with the
    /// same id, an event is delivered once.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._:-]{1,128}$"))]
    pub id: Option<String>,
    /// Also read as `event_type`.
    #[serde(rename = "type", alias = "event_type")]
    pub event_type: String,
    pub entity_id: Option<EntityId>,
    /// Any JSON, up to 256 KiB, delivered byte for byte.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Box<RawValue>,
}

impl IncomingEvent {
    pub fn payload_too_large(&self) -> bool {
        self.payload.get().len() > MAX_PAYLOAD_BYTES
    }
}

/// Checks one event; `field` prefixes the field names (`events[3]`).
pub fn check_event(event: &IncomingEvent, field: &str, errors: &mut Vec<FieldError>) {
    if let Some(id) = &event.id {
        let valid = !id.is_empty()
            && id.len() <= MAX_EVENT_ID_LEN
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        if !valid {
            errors.push(FieldError::new(
                format!("{field}id"),
                format!("must be 1..={MAX_EVENT_ID_LEN} characters of A-Z a-z 0-9 - _ . :"),
            ));
        }
    }
    // The type is checked against the tenant's catalog, which needs the store:
    // `event_types::check_typed_payload`.
    if !is_valid_type_name(&event.event_type) {
        errors
            .push(FieldError::new(format!("{field}type"), format!("{:?} is not an event type name", event.event_type)));
    }
    if let Some(entity) = &event.entity_id {
        check_entity_id(entity, &format!("{field}entity_id"), errors);
    }
    if !event.payload.get().trim_start().starts_with('{') {
        errors.push(FieldError::new(format!("{field}payload"), "must be a JSON object"));
    } else if json_depth(event.payload.get()) > MAX_JSON_DEPTH {
        errors.push(FieldError::new(
            format!("{field}payload"),
            format!("nested deeper than {MAX_JSON_DEPTH} levels (recursion limit)"),
        ));
    }
}

pub fn check_entity_id(entity: &EntityId, field: &str, errors: &mut Vec<FieldError>) {
    if let EntityId::Text(text) = entity
        && (text.is_empty() || text.chars().count() > MAX_ENTITY_ID_LEN)
    {
        errors.push(FieldError::new(field, format!("must be 1..={MAX_ENTITY_ID_LEN} characters")));
    }
}

/// The entity of an event sent without an `entity_id`: its payload's top-level `entity_id`
/// (seed 000's payload format carries it there), if that is an integer or a string of
/// 1..=[`MAX_ENTITY_ID_LEN`] characters. Anything else there (a float, an object, `null`, a
/// key given twice) is no entity: the payload is the producer's, never refused for it.
pub fn payload_entity_id(payload: &RawValue) -> Option<EntityId> {
    #[derive(Deserialize)]
    struct TopLevel {
        entity_id: Option<EntityId>,
    }
    let entity = serde_json::from_str::<TopLevel>(payload.get()).ok()?.entity_id?;
    match &entity {
        EntityId::Text(text) if text.is_empty() || text.len() > MAX_ENTITY_ID_LEN => None,
        _ => Some(entity),
    }
}
