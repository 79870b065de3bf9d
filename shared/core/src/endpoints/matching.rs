//! Whether an endpoint takes an event: its subscriptions and its filters.

use crate::endpoints::Endpoint;
use crate::endpoints::filters::{FilteredEvent, filters_accept};
use crate::events::patterns::pattern_matches;

/// Whether `endpoint` should receive `event`: subscribed to its type (exactly or by
/// wildcard), and let through by its filters ([`crate::endpoints::filters`]).
pub fn endpoint_accepts(endpoint: &Endpoint, event: &FilteredEvent<'_>) -> bool {
    endpoint.events.iter().any(|p| pattern_matches(p, event.event_type))
        && filters_accept(&endpoint.event_filters, event)
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use super::*;
    use crate::events::EntityId;
    use crate::events::intake::{MAX_ENTITY_ID_LEN, payload_entity_id};
    use crate::events::patterns::patterns_matching;

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
