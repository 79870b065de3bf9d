//! The event type catalog: every type the service accepts, shipped with the project in
//! `catalog/event_types.json`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::filter::pattern_matches;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventType {
    #[serde(rename = "type")]
    pub name: String,
    pub description: String,
}

/// The type sent by the test route.
pub const TEST_EVENT_TYPE: &str = "webhook.test";

pub fn event_types() -> &'static [EventType] {
    static CATALOG: OnceLock<Vec<EventType>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(include_str!("../../catalog/event_types.json")).expect("the shipped catalog is valid JSON")
    })
}

pub fn is_known_type(name: &str) -> bool {
    event_types().iter().any(|t| t.name == name)
}

/// A subscription is valid when it is a catalog type or a wildcard that matches at least one.
pub fn is_valid_subscription(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix(".*") {
        if prefix.is_empty() || prefix.contains('*') {
            return false;
        }
        return event_types().iter().any(|t| pattern_matches(pattern, &t.name));
    }
    is_known_type(pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_holds_the_seed_types_and_the_test_type() {
        for name in [
            "playground.status.changed",
            "run.failed",
            "template.version_published",
            "workflow.step.failed",
            "approval.expired",
            TEST_EVENT_TYPE,
        ] {
            assert!(is_known_type(name), "{name} missing");
        }
        assert!(!is_known_type("nope.created"));
    }

    #[test]
    fn subscriptions_accept_types_and_matching_wildcards_only() {
        assert!(is_valid_subscription("*"));
        assert!(is_valid_subscription("playground.*"));
        assert!(is_valid_subscription("workflow.step.*"));
        assert!(!is_valid_subscription("nothing.*"));
        assert!(!is_valid_subscription(".*"));
        assert!(!is_valid_subscription("play*.*"));
        assert!(!is_valid_subscription("playground.created.extra"));
    }
}
