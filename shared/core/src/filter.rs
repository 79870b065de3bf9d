//! Which endpoints take which events: wildcard subscriptions and entity-id filters.

use crate::model::{Endpoint, EntityId};

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

/// Whether `endpoint` should receive an event of `event_type` about `entity`: subscribed
/// (exactly or by wildcard), and either unfiltered for that type or filtered to this entity.
pub fn endpoint_accepts(endpoint: &Endpoint, event_type: &str, entity: Option<&EntityId>) -> bool {
    if !endpoint.events.iter().any(|p| pattern_matches(p, event_type)) {
        return false;
    }
    match endpoint.event_filters.get(event_type) {
        None => true,
        Some(ids) if ids.is_empty() => true,
        Some(ids) => entity.is_some_and(|entity| {
            let wanted = entity.canonical();
            ids.iter().any(|id| id.canonical() == wanted)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
