//! The default event type catalog: the types every tenant has, shipped with the project in
//! `catalog/event_types.json`. A tenant adds its own (`types.rs`).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventType {
    #[serde(rename = "type")]
    pub name: String,
    pub description: String,
    /// A payload of the type, as an example (what `webhooks trigger TYPE` sends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<serde_json::Value>,
}

/// The type sent by the test route.
pub const TEST_EVENT_TYPE: &str = "webhook.test";

pub fn event_types() -> &'static [EventType] {
    static CATALOG: OnceLock<Vec<EventType>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(include_str!("../../../catalog/event_types.json"))
            .expect("the shipped catalog is valid JSON")
    })
}

/// Whether `name` is in the default catalog (a tenant may have more: `types.rs`).
pub fn is_default_type(name: &str) -> bool {
    event_types().iter().any(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::events::types::TenantCatalog;

    #[test]
    fn subscriptions_accept_types_and_matching_wildcards_only() {
        let catalog = TenantCatalog::defaults();
        assert!(catalog.is_valid_subscription("*"));
        assert!(catalog.is_valid_subscription("playground.*"));
        assert!(catalog.is_valid_subscription("workflow.step.*"));
        assert!(!catalog.is_valid_subscription("nothing.*"));
        assert!(!catalog.is_valid_subscription(".*"));
        assert!(!catalog.is_valid_subscription("play*.*"));
        assert!(!catalog.is_valid_subscription("playground.created.extra"));
    }

    #[test]
    fn every_default_type_has_an_example_payload_object() {
        for t in event_types() {
            assert!(t.example.as_ref().is_some_and(serde_json::Value::is_object), "{} has no example", t.name);
        }
    }

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
            assert!(is_default_type(name), "{name} missing");
        }
        assert!(!is_default_type("nope.created"));
    }
}
