//! An endpoint's `event_filters`: per event type (or wildcard), either a list of entity ids
//! or an object of payload paths to the values they may hold. Which filter applies to an
//! event, what it accepts, and the limits on what a client may ask for.
//!
//! The rules, as `docs/filters.md` states them for users:
//! - The filter under the most specific key that matches the event's type applies: the type
//!   itself, then its longest family wildcard (`workflow.step.*` before `workflow.*`), then
//!   `*`. Only that one; filters under other keys are not combined with it.
//! - A list of entity ids accepts an event whose entity (its `entity_id`, or the payload's
//!   top-level `entity_id`) is one of them, `42` and `"42"` alike. An empty list accepts all.
//! - An object accepts an event when every path in it names, in the payload, a string,
//!   number, boolean or null equal to one of the path's values. A path is object keys joined
//!   by dots (`tool.id`); it never indexes into arrays. Values compare by JSON type: `"42"`
//!   is not `42`; numbers compare by value (`1` is `1.0`). A missing path, or an object or
//!   array there, does not match. An empty object accepts all.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::events::EntityId;

/// Event types (or wildcards) an endpoint may filter.
pub const MAX_FILTERED_TYPES: usize = 100;
/// Entity ids in one filter.
pub const MAX_IDS_PER_FILTER: usize = 100;
/// Payload paths in one filter.
pub const MAX_PATHS_PER_FILTER: usize = 10;
/// A payload path's length, dots included.
pub const MAX_PATH_LEN: usize = 200;
/// Object keys in one payload path.
pub const MAX_PATH_SEGMENTS: usize = 16;
/// Values one payload path may hold.
pub const MAX_VALUES_PER_PATH: usize = 100;
/// A text value's length.
pub const MAX_VALUE_LEN: usize = 256;
/// Every filter of one endpoint together, as compact JSON: what one stored item holds.
pub const MAX_FILTERS_BYTES: usize = 64 * 1024;

/// Event type or wildcard -> the filter for it.
pub type EventFilters = BTreeMap<String, EventFilter>;

/// One event type's filter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum EventFilter {
    /// Only these entities; empty: every entity.
    Entities(Vec<EntityId>),
    /// Payload path -> the values it may hold; every path must match. Empty: every event.
    Fields(BTreeMap<String, Vec<Value>>),
}

impl<'de> Deserialize<'de> for EventFilter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const SHAPE: &str = "a filter is a list of entity ids or an object of payload paths to lists of values";
        match Value::deserialize(deserializer)? {
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::Number(n) => crate::validation::whole_number(&n).map(EntityId::Number),
                    Value::String(text) => Some(EntityId::Text(text)),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(EventFilter::Entities)
                .ok_or_else(|| D::Error::custom("an entity id is an integer or a string")),
            Value::Object(paths) => paths
                .into_iter()
                .map(|(path, values)| match values {
                    Value::Array(values) => Ok((path, values)),
                    _ => Err(D::Error::custom(format!("payload path {path:?} takes a list of values"))),
                })
                .collect::<Result<_, _>>()
                .map(EventFilter::Fields),
            _ => Err(D::Error::custom(SHAPE)),
        }
    }
}

/// What filters look at in one event; the payload is parsed once, and only if a filter
/// asks for a payload path.
pub struct FilteredEvent<'a> {
    pub event_type: &'a str,
    pub entity: Option<&'a EntityId>,
    payload: &'a RawValue,
    parsed: OnceCell<Option<Value>>,
}

impl<'a> FilteredEvent<'a> {
    pub fn new(event_type: &'a str, entity: Option<&'a EntityId>, payload: &'a RawValue) -> Self {
        Self { event_type, entity, payload, parsed: OnceCell::new() }
    }

    fn payload(&self) -> Option<&Value> {
        self.parsed.get_or_init(|| serde_json::from_str(self.payload.get()).ok()).as_ref()
    }
}

/// The filter that applies to `event_type`: under the type itself, else under its longest
/// family wildcard, else under `*`.
pub fn filter_for<'f>(filters: &'f EventFilters, event_type: &str) -> Option<&'f EventFilter> {
    if let Some(filter) = filters.get(event_type) {
        return Some(filter);
    }
    let families = event_type.match_indices('.').map(|(i, _)| &event_type[..i]);
    let mut prefixes: Vec<&str> = families.collect();
    prefixes.reverse();
    prefixes.into_iter().find_map(|prefix| filters.get(&format!("{prefix}.*"))).or_else(|| filters.get("*"))
}

/// Whether the filters let `event` through (nothing filtered: yes).
pub fn filters_accept(filters: &EventFilters, event: &FilteredEvent<'_>) -> bool {
    match filter_for(filters, event.event_type) {
        None => true,
        Some(EventFilter::Entities(ids)) if ids.is_empty() => true,
        Some(EventFilter::Entities(ids)) => event.entity.is_some_and(|entity| {
            let wanted = entity.canonical();
            ids.iter().any(|id| id.canonical() == wanted)
        }),
        Some(EventFilter::Fields(paths)) if paths.is_empty() => true,
        Some(EventFilter::Fields(paths)) => event.payload().is_some_and(|payload| {
            paths.iter().all(|(path, allowed)| {
                value_at(payload, path).is_some_and(|found| allowed.iter().any(|value| same_scalar(found, value)))
            })
        }),
    }
}

/// The value a dotted path names, through objects only.
pub fn value_at<'v>(payload: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(payload, |value, key| value.as_object()?.get(key))
}

/// Equal scalars: same JSON type and value, numbers by value (`1` is `1.0`, integers exactly).
pub fn same_scalar(found: &Value, wanted: &Value) -> bool {
    match (found, wanted) {
        (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => a.as_f64() == b.as_f64(),
        (Value::Number(a), Value::Number(b)) => a == b,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// One problem with one filter, for a field error `event_filters.<key>` (+ the suffix).
pub struct FilterProblem {
    /// Appended to `event_filters.<key>`: empty, or `.<path>` / `.<path>[i]`.
    pub at: String,
    pub message: String,
}

/// Checks one filter's shape and sizes (not its key: that needs the endpoint's events).
pub fn check_filter(filter: &EventFilter) -> Vec<FilterProblem> {
    let problem = |at: String, message: String| FilterProblem { at, message };
    let mut problems = Vec::new();
    match filter {
        EventFilter::Entities(ids) => {
            if ids.len() > MAX_IDS_PER_FILTER {
                problems.push(problem(String::new(), format!("at most {MAX_IDS_PER_FILTER} entity ids")));
            }
        }
        EventFilter::Fields(paths) => {
            if paths.len() > MAX_PATHS_PER_FILTER {
                problems.push(problem(String::new(), format!("at most {MAX_PATHS_PER_FILTER} payload paths")));
            }
            for (path, values) in paths {
                let at = format!(".{path}");
                let segments = path.split('.').count();
                let long = path.chars().count() > MAX_PATH_LEN;
                if long || segments > MAX_PATH_SEGMENTS || path.split('.').any(str::is_empty) {
                    problems.push(problem(
                        at.clone(),
                        format!(
                            "a payload path is 1..={MAX_PATH_SEGMENTS} non-empty keys joined by dots, \
                             at most {MAX_PATH_LEN} characters"
                        ),
                    ));
                }
                if values.is_empty() || values.len() > MAX_VALUES_PER_PATH {
                    problems.push(problem(at.clone(), format!("must list 1..={MAX_VALUES_PER_PATH} values")));
                }
                for (i, value) in values.iter().enumerate() {
                    let fine = match value {
                        Value::String(text) => text.chars().count() <= MAX_VALUE_LEN,
                        Value::Number(_) | Value::Bool(_) | Value::Null => true,
                        Value::Array(_) | Value::Object(_) => false,
                    };
                    if !fine {
                        problems.push(problem(
                            format!("{at}[{i}]"),
                            format!(
                                "must be a string of at most {MAX_VALUE_LEN} characters, a number, a boolean or null"
                            ),
                        ));
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(json: &str) -> EventFilters {
        serde_json::from_str(json).unwrap()
    }

    fn accepts(filters_json: &str, event_type: &str, entity: Option<EntityId>, payload: &str) -> bool {
        let payload = RawValue::from_string(payload.to_owned()).unwrap();
        filters_accept(&filters(filters_json), &FilteredEvent::new(event_type, entity.as_ref(), &payload))
    }

    #[test]
    fn a_list_is_entity_ids_and_an_object_is_payload_paths() {
        let parsed = filters(r#"{"a.b": [1, "x"], "c.d": {"status": ["failed", 2, true, null]}}"#);
        assert_eq!(parsed["a.b"], EventFilter::Entities(vec![EntityId::Number(1), EntityId::Text("x".into())]));
        assert!(matches!(&parsed["c.d"], EventFilter::Fields(paths) if paths["status"].len() == 4));
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            r#"{"a.b":[1,"x"],"c.d":{"status":["failed",2,true,null]}}"#
        );
        for bad in [r#"{"a.b": 3}"#, r#"{"a.b": [1.5]}"#, r#"{"a.b": [{}]}"#, r#"{"a.b": {"status": "failed"}}"#] {
            assert!(serde_json::from_str::<EventFilters>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn payload_paths_match_scalars_by_type_and_value() {
        let f = r#"{"trick.failed": {"status": ["failed"], "tool.id": ["t_1", 7]}}"#;
        assert!(accepts(f, "trick.failed", None, r#"{"status": "failed", "tool": {"id": "t_1"}}"#));
        assert!(accepts(f, "trick.failed", None, r#"{"status": "failed", "tool": {"id": 7.0}}"#));
        assert!(!accepts(f, "trick.failed", None, r#"{"status": "failed", "tool": {"id": "7"}}"#));
        assert!(!accepts(f, "trick.failed", None, r#"{"status": "failed"}"#));
        assert!(!accepts(f, "trick.failed", None, r#"{"status": ["failed"], "tool": {"id": "t_1"}}"#));
        assert!(!accepts(f, "trick.failed", None, r#"{"status": "failed", "tool": [{"id": "t_1"}]}"#));
        // Other types are not filtered.
        assert!(accepts(f, "trick.succeeded", None, r#"{}"#));
    }

    #[test]
    fn the_most_specific_key_decides() {
        let f = r#"{"*": {"a": [1]}, "workflow.*": {"a": [2]}, "workflow.step.*": {"a": [3]}, "workflow.step.failed": {"a": [4]}}"#;
        for (event_type, wanted) in
            [("workflow.step.failed", 4), ("workflow.step.started", 3), ("workflow.completed", 2), ("run.failed", 1)]
        {
            for a in 1..=4 {
                assert_eq!(accepts(f, event_type, None, &format!(r#"{{"a": {a}}}"#)), a == wanted, "{event_type} {a}");
            }
        }
    }

    #[test]
    fn entity_lists_compare_canonical_text() {
        let f = r#"{"run.failed": [42, "pg_1"]}"#;
        assert!(accepts(f, "run.failed", Some(EntityId::Text("42".into())), "{}"));
        assert!(accepts(f, "run.failed", Some(EntityId::Text("pg_1".into())), "{}"));
        assert!(!accepts(f, "run.failed", Some(EntityId::Number(43)), "{}"));
        assert!(!accepts(f, "run.failed", None, "{}"));
        assert!(accepts(r#"{"run.failed": []}"#, "run.failed", None, "{}"));
        assert!(accepts(r#"{"run.failed": {}}"#, "run.failed", None, "{}"));
    }

    #[test]
    fn checks_name_each_bad_part() {
        let bad = filters(r#"{"a": {"": [1], "x..y": [1], "ok": [], "v": [[1], {"k": 1}, "fine"]}}"#);
        let problems: Vec<String> = check_filter(&bad["a"]).into_iter().map(|p| p.at).collect();
        assert_eq!(problems, [".", ".ok", ".v[0]", ".v[1]", ".x..y"]);
        let deep = format!(r#"{{"a": {{"{}": [1]}}}}"#, vec!["k"; MAX_PATH_SEGMENTS + 1].join("."));
        assert_eq!(check_filter(&filters(&deep)["a"]).len(), 1);
        let fine = format!(r#"{{"a": {{"{}": [1]}}}}"#, vec!["k"; MAX_PATH_SEGMENTS].join("."));
        assert!(check_filter(&filters(&fine)["a"]).is_empty());
    }
}
