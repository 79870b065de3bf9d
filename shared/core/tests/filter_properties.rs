//! Property tests of event filters: matching on payload paths agrees with a plain reference
//! model (flatten the payload, look the path up, compare canonical scalars), the most
//! specific key decides, and what is stored reads back the same. A bounded number of cases.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use webhooks::endpoints::filters::{EventFilter, EventFilters, FilteredEvent, filter_for, filters_accept};
use webhooks::events::EntityId;
use webhooks::events::patterns::{pattern_matches, patterns_matching};

/// A few scalars that look alike across types: `1`, `1.0`, `"1"`, `true`...
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(false)),
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(1.0)),
        Just(json!(-1)),
        Just(json!(2.5)),
        Just(json!("1")),
        Just(json!("a")),
        Just(json!("")),
    ]
}

const KEYS: [&str; 3] = ["a", "b", "c"];

/// Payloads over a small alphabet of keys, so that filters often hit them.
fn payload() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![4 => scalar(), 1 => proptest::collection::vec(scalar(), 0..3).prop_map(Value::from)];
    leaf.prop_recursive(3, 20, 3, |inner| {
        proptest::collection::btree_map(proptest::sample::select(&KEYS[..]), inner, 0..3)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>()))
    })
    .prop_map(|value| if value.is_object() { value } else { json!({ "a": value }) })
}

fn path() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(&KEYS[..]), 1..4).prop_map(|keys| keys.join("."))
}

fn fields() -> impl Strategy<Value = BTreeMap<String, Vec<Value>>> {
    proptest::collection::btree_map(path(), proptest::collection::vec(scalar(), 1..4), 1..4)
}

/// The reference: every scalar leaf reachable through objects, by its dotted path.
fn flatten(value: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(inner, &path, out);
            }
        }
        Value::Array(_) => {}
        scalar => {
            out.insert(prefix.to_owned(), scalar.clone());
        }
    }
}

/// The reference's notion of one value: its JSON type and, for numbers, the value as f64.
fn canonical(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("number:{}", n.as_f64().unwrap()),
        other => format!("{other}"),
    }
}

fn accepts(filters: &EventFilters, event_type: &str, payload: &Value) -> bool {
    let raw = RawValue::from_string(payload.to_string()).unwrap();
    filters_accept(filters, &FilteredEvent::new(event_type, None, &raw))
}

fn fields_filter(fields: &BTreeMap<String, Vec<Value>>) -> EventFilters {
    BTreeMap::from([("run.failed".to_owned(), EventFilter::Fields(fields.clone()))])
}

proptest! {
    #[test]
    fn payload_filters_agree_with_the_reference(payload in payload(), fields in fields()) {
        let mut leaves = BTreeMap::new();
        flatten(&payload, "", &mut leaves);
        let expected = fields.iter().all(|(path, allowed)| {
            leaves.get(path).is_some_and(|found| allowed.iter().any(|v| canonical(v) == canonical(found)))
        });
        prop_assert_eq!(accepts(&fields_filter(&fields), "run.failed", &payload), expected);
        // Other types are not filtered by it.
        prop_assert!(accepts(&fields_filter(&fields), "run.completed", &payload));
    }

    /// Naming a payload's own values always lets it through; adding a value never stops an
    /// event, adding a path never lets one through that was stopped.
    #[test]
    fn more_values_widen_and_more_paths_narrow(payload in payload(), fields in fields(), extra in scalar(), more in path()) {
        let mut leaves = BTreeMap::new();
        flatten(&payload, "", &mut leaves);
        let own: BTreeMap<String, Vec<Value>> = leaves.iter().take(4).map(|(p, v)| (p.clone(), vec![v.clone()])).collect();
        if !own.is_empty() {
            prop_assert!(accepts(&fields_filter(&own), "run.failed", &payload));
        }
        let before = accepts(&fields_filter(&fields), "run.failed", &payload);
        let mut wider = fields.clone();
        for values in wider.values_mut() {
            values.push(extra.clone());
        }
        prop_assert!(!before || accepts(&fields_filter(&wider), "run.failed", &payload));
        let mut narrower = fields.clone();
        narrower.entry(more).or_insert_with(|| vec![extra.clone()]);
        prop_assert!(before || !accepts(&fields_filter(&narrower), "run.failed", &payload));
    }

    /// The filter used is the exact type's, else the longest matching family wildcard's, else `*`'s.
    #[test]
    fn the_most_specific_key_decides(
        event in "[a-c]{1,2}(\\.[a-c]{1,2}){0,3}",
        others in proptest::collection::btree_set(
            prop_oneof![Just("*".to_owned()), "[a-c]{1,2}(\\.[a-c]{1,2}){0,3}", "[a-c]{1,2}(\\.[a-c]{1,2}){0,2}\\.\\*"],
            0..4,
        ),
        own in proptest::collection::vec(any::<bool>(), 5),
    ) {
        // Some of the keys that select the event (so that several compete), and others.
        let mut keys = others;
        keys.extend(patterns_matching(&event).into_iter().zip(own).filter(|(_, keep)| *keep).map(|(k, _)| k));
        let filters: EventFilters =
            keys.iter().enumerate().map(|(i, k)| (k.clone(), EventFilter::Entities(vec![EntityId::Number(i as i64)]))).collect();
        let expected = keys
            .iter()
            .filter(|k| pattern_matches(k, &event))
            .max_by_key(|k| (**k == event, k.len()))
            .map(|k| &filters[k]);
        prop_assert_eq!(filter_for(&filters, &event), expected);
    }

    /// What the stores keep (JSON) reads back as the same filters.
    #[test]
    fn filters_read_back_as_stored(fields in fields(), ids in proptest::collection::vec(
        prop_oneof![any::<i64>().prop_map(EntityId::Number), "[a-z0-9_]{1,8}".prop_map(EntityId::Text)], 0..4,
    )) {
        let filters: EventFilters = BTreeMap::from([
            ("a.*".to_owned(), EventFilter::Fields(fields)),
            ("a.b".to_owned(), EventFilter::Entities(ids)),
        ]);
        let stored = serde_json::to_string(&filters).unwrap();
        prop_assert_eq!(serde_json::from_str::<EventFilters>(&stored).unwrap(), filters);
    }
}
