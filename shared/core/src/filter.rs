//! Which endpoints take which events: wildcard subscriptions, then the endpoint's filters.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::event_filter::{FilteredEvent, filters_accept};
use crate::model::{Endpoint, EntityId};
use crate::validation::MAX_ENTITY_ID_LEN;

/// `*` matches everything; `family.*` matches every type under `family.` (any depth);
/// anything else matches only itself.
pub fn pattern_matches(pattern: &str, event_type: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) => event_type.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => pattern == event_type,
    }
}

/// Every subscription that matches `event_type`: the exact type, each `prefix.*` and `*`.
/// Stores index subscriptions by pattern, so the dispatcher looks up exactly these keys.
pub fn patterns_matching(event_type: &str) -> Vec<String> {
    let mut patterns = vec![event_type.to_owned(), "*".to_owned()];
    for (i, _) in event_type.match_indices('.') {
        patterns.push(format!("{}.*", &event_type[..i]));
    }
    patterns
}

/// Whether `endpoint` should receive `event`: subscribed to its type (exactly or by
/// wildcard), and let through by its filters ([`crate::event_filter`]).
pub fn endpoint_accepts(endpoint: &Endpoint, event: &FilteredEvent<'_>) -> bool {
    endpoint.events.iter().any(|p| pattern_matches(p, event.event_type))
        && filters_accept(&endpoint.event_filters, event)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entity_of(payload: &str) -> Option<EntityId> {
        payload_entity_id(&RawValue::from_string(payload.to_owned()).unwrap())
    }

    #[test]
    fn the_payload_names_the_entity_at_its_top_level_only() {
        assert_eq!(entity_of(r#"{"entity_type": "Playground", "entity_id": 42}"#), Some(EntityId::Number(42)));
        assert_eq!(entity_of(r#"{"entity_id": "pg_7", "x": [1]}"#), Some(EntityId::Text("pg_7".into())));
        for none in [
            r#"{"data": {"entity_id": 42}}"#,
            r#"{"entity_id": 4.2}"#,
            r#"{"entity_id": null}"#,
            r#"{"entity_id": {"id": 1}}"#,
            r#"{"entity_id": ""}"#,
            r#"{"entity_id": 1, "entity_id": 2}"#,
            r#"{}"#,
        ] {
            assert_eq!(entity_of(none), None, "{none}");
        }
        assert!(entity_of(&format!(r#"{{"entity_id": "{}"}}"#, "a".repeat(MAX_ENTITY_ID_LEN))).is_some());
        assert_eq!(entity_of(&format!(r#"{{"entity_id": "{}"}}"#, "a".repeat(MAX_ENTITY_ID_LEN + 1))), None);
    }

    #[test]
    fn wildcards_match_families_at_any_depth() {
        assert!(pattern_matches("*", "run.failed"));
        assert!(pattern_matches("playground.*", "playground.status.changed"));
        assert!(pattern_matches("playground.status.*", "playground.status.changed"));
        assert!(!pattern_matches("playground.*", "playgrounds.created"));
        assert!(!pattern_matches("playground.*", "playground"));
        assert!(!pattern_matches("run.failed", "run.completed"));
    }

    #[test]
    fn patterns_matching_lists_every_key_that_can_select_a_type() {
        let mut keys = patterns_matching("workflow.step.failed");
        keys.sort();
        assert_eq!(keys, ["*", "workflow.*", "workflow.step.*", "workflow.step.failed"]);
        for key in &keys {
            assert!(pattern_matches(key, "workflow.step.failed"));
        }
    }
}
