//! Property tests through the API: whatever a client sends to ingestion or to endpoint
//! creation, the answer is a success or a clear 4xx in the error shape, never a 5xx or a
//! dropped connection. A bounded number of cases, against one running service.

use proptest::prelude::*;
use serde_json::{Value, json};
use webhooks_tests::{Reply, Service};

/// JSON values of any shape, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        prop_oneof![Just("run.failed"), Just("playground.*"), Just("*"), Just("nope.created")].prop_map(Value::from),
        prop_oneof![Just("https://example.com/h"), Just("http://127.0.0.1:9/"), Just("https://10.0.0.1/")]
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("payload".to_owned()),
                    Just("id".to_owned()),
                    Just("entity_id".to_owned()),
                    Just("events".to_owned()),
                    Just("url".to_owned()),
                    Just("event_filters".to_owned()),
                    Just("headers".to_owned()),
                    Just("secret".to_owned()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn assert_clear(reply: &Reply, success: u16) -> Result<(), TestCaseError> {
    prop_assert!(reply.status == success || (400..500).contains(&reply.status), "{} {:?}", reply.status, reply.body);
    if reply.status != success {
        prop_assert!(reply.body["error"]["code"].is_string(), "{:?}", reply.body);
        prop_assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{:?}", reply.body);
    }
    Ok(())
}

#[test]
fn any_body_gets_a_success_or_a_clear_4xx() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let service = runtime.block_on(Service::start_with(|config| config.settings.max_endpoints = 10_000));
    let config = ProptestConfig { cases: 200, ..ProptestConfig::default() };
    proptest!(config, |(value in json_value(), bytes in proptest::collection::vec(any::<u8>(), 0..64))| {
        let event = runtime.block_on(service.api.raw("POST", "/v1/events", value.to_string().into_bytes()));
        assert_clear(&event, 202)?;
        let endpoint = runtime.block_on(service.api.raw("POST", "/v1/webhooks", value.to_string().into_bytes()));
        assert_clear(&endpoint, 201)?;
        let raw = runtime.block_on(service.api.raw("POST", "/v1/events", bytes));
        assert_clear(&raw, 202)?;
        let wrapped = json!({"type": "run.failed", "payload": {"v": value}});
        let wrapped = runtime.block_on(service.api.raw("POST", "/v1/events", wrapped.to_string().into_bytes()));
        assert_clear(&wrapped, 202)?;
    });
    runtime.block_on(async move {
        let mut service = service;
        service.stop().await;
    });
}
