//! Filters on payload fields (seed 002: "Event families: Tricks. Event filters: status:
//! failed"; "only events tied to a specific tool"), through the API to real receivers, on the
//! embedded service and on `serve --aws`: the same handlers over DynamoDB and SQS.

use std::time::Duration;

use serde_json::json;
use webhooks_tests::{Api, Binary, Receiver, Service};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_filters_choose_the_events() {
    let service = Service::start().await;
    payload_filters(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_payload_filters_choose_the_events() {
    let (_data, service) = Binary::serve_on_aws("payload-filters", &[]);
    payload_filters(&service.api).await;
}

async fn payload_filters(api: &Api) {
    let slack = Receiver::start().await;
    let tool = Receiver::start().await;
    let mixed = Receiver::start().await;
    // The Slack example: the Tricks family, only failures.
    let created = api
        .create_endpoint_with(json!({
            "url": slack.url("/"),
            "events": ["trick.*"],
            "event_filters": {"trick.*": {"status": ["failed"]}},
        }))
        .await;
    assert_eq!(created["event_filters"], json!({"trick.*": {"status": ["failed"]}}));
    // Agent activity tied to one tool (a nested path; numbers by value).
    api.create_endpoint_with(json!({
        "url": tool.url("/"),
        "events": ["agent.*"],
        "event_filters": {"agent.*": {"tool.id": ["t_1", 7]}},
    }))
    .await;
    // An exact type's filter wins over its family's; entity ids and payload paths side by side.
    let id = api
        .create_endpoint_with(json!({
            "url": mixed.url("/"),
            "events": ["trick.*", "agent.updated"],
            "event_filters": {"trick.*": {"status": ["failed"]}, "trick.succeeded": {"fast": [true]}, "agent.updated": [42]},
        }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let events = json!({"events": [
        {"id": "e1", "type": "trick.failed", "payload": {"e": 1, "status": "failed"}},
        {"id": "e2", "type": "trick.succeeded", "payload": {"e": 2, "status": "succeeded", "fast": true}},
        {"id": "e3", "type": "trick.failed", "payload": {"e": 3, "status": ["failed"]}},
        {"id": "e4", "type": "agent.updated", "entity_id": 42, "payload": {"e": 4, "tool": {"id": "t_1"}}},
        {"id": "e5", "type": "agent.created", "payload": {"e": 5, "tool": {"id": 7.0}}},
        {"id": "e6", "type": "agent.created", "payload": {"e": 6, "tool": {"id": "7"}}},
        {"id": "e7", "type": "agent.created", "payload": {"e": 7, "tool_id": "t_1"}},
        {"id": "e8", "type": "agent.updated", "entity_id": 41, "payload": {"e": 8, "tool": {"id": 7}}},
    ]});
    api.send_events(events).await;

    let seen = |r: &Receiver| {
        let mut ids: Vec<i64> = r.received().iter().map(|g| g.json()["e"].as_i64().unwrap()).collect();
        ids.sort();
        ids
    };
    tool.wait_for(3, WAIT).await;
    mixed.wait_for(3, WAIT).await;
    slack.wait_for(1, WAIT).await;
    slack.assert_stays_at(1, Duration::from_millis(500)).await;
    assert_eq!(seen(&slack), [1], "only trick events whose status is the text \"failed\"");
    assert_eq!(seen(&tool), [4, 5, 8], "tool.id \"t_1\" or the number 7, not the text \"7\" nor another path");
    assert_eq!(seen(&mixed), [1, 2, 4], "trick.succeeded by its own filter, agent.updated by entity");

    // A PATCH replaces the filters; an empty object takes everything again.
    let patched = api.patch(&format!("/v1/webhooks/{id}"), json!({"event_filters": {"trick.failed": {}}})).await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    api.send_events(json!({"id": "e9", "type": "trick.failed", "payload": {"e": 9}})).await;
    mixed.wait_for(4, WAIT).await;
    assert_eq!(seen(&mixed), [1, 2, 4, 9]);
}

/// A bad filter is a 400 naming the field (or, for a filter of the wrong shape, saying
/// what a filter is), and nothing is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filters_are_refused_naming_the_field() {
    let service = Service::start().await;
    let api = &service.api;
    let with = |filters: serde_json::Value| json!({"url": "https://example.com/hook", "events": ["run.failed"], "event_filters": filters});
    let many: serde_json::Map<String, serde_json::Value> = (0..11).map(|i| (format!("p{i}"), json!([1]))).collect();
    for (filters, field) in [
        (json!({"run.failed": {"status": ["failed", {"is": "failed"}]}}), "event_filters.run.failed.status[1]"),
        (json!({"run.*": {"tool..id": [1]}}), "event_filters.run.*.tool..id"),
        (json!({"run.failed": {"status": []}}), "event_filters.run.failed.status"),
        (json!({"run.failed": many}), "event_filters.run.failed"),
        (json!({"run.completed": [1]}), "event_filters.run.completed"),
    ] {
        let reply = api.post("/v1/webhooks", with(filters.clone())).await;
        assert_eq!((reply.status, reply.code()), (400, "validation_error"), "{filters}");
        let fields: Vec<&str> =
            reply.body["error"]["details"].as_array().unwrap().iter().filter_map(|d| d["field"].as_str()).collect();
        assert!(fields.contains(&field), "{filters}: {fields:?}");
    }
    for shape in
        [json!({"run.failed": "failed"}), json!({"run.failed": {"status": "failed"}}), json!({"run.failed": [1.5]})]
    {
        let reply = api.post("/v1/webhooks", with(shape)).await;
        assert_eq!((reply.status, reply.code()), (400, "validation_error"));
        let message = reply.body["error"]["message"].as_str().unwrap();
        let says = ["a filter is", "takes a list of values", "an entity id is"];
        assert!(says.iter().any(|m| message.contains(m)), "{message}");
    }
    assert_eq!(api.get("/v1/webhooks").await.body["data"], json!([]), "nothing was created");
}
