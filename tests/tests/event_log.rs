//! Events read back (Svix's message log): `GET /v1/events` newest first by type and time in
//! pages, `GET /v1/events/{id}` with its payload and where it went; on the embedded service
//! and on `serve --aws`, over real HTTP with real receivers.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Api, Binary, Receiver, Service};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_read_back_with_their_deliveries() {
    let service = Service::start().await;
    event_log(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_events_read_back_with_their_deliveries() {
    let (_data, service) = Binary::serve_on_aws("event-log", &[]);
    event_log(&service.api).await;
}

fn ids(body: &Value) -> Vec<&str> {
    body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect()
}

async fn event_log(api: &Api) {
    let (all, failures) = (Receiver::start().await, Receiver::start().await);
    let all_id = api.create_endpoint(&all.url("/"), &["run.*"]).await["id"].as_str().unwrap().to_owned();
    let failures_id = api.create_endpoint(&failures.url("/"), &["run.failed"]).await["id"].as_str().unwrap().to_owned();
    let started = api.get("/v1/events").await;
    assert_eq!((started.status, ids(&started.body).len()), (200, 0), "{:?}", started.body);

    api.send_events(json!({"id": "order-1", "type": "run.failed", "entity_id": 5, "payload": {"n": 1}})).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    api.send_events(json!({"id": "order-2", "type": "run.completed", "payload": {"n": 2}})).await;
    all.wait_for(2, WAIT).await;
    failures.wait_for(1, WAIT).await;

    let listed = api.get("/v1/events").await;
    assert_eq!(ids(&listed.body), ["order-2", "order-1"], "newest first");
    let first = &listed.body["data"][1];
    assert_eq!((&first["type"], &first["entity_id"]), (&json!("run.failed"), &json!(5)));
    assert!(first.get("payload").is_none(), "the list leaves payloads out");
    assert_eq!(ids(&api.get("/v1/events?type=run.failed").await.body), ["order-1"]);
    let since = first["created_at"].as_str().unwrap();
    assert_eq!(ids(&api.get(&format!("/v1/events?since={since}")).await.body), ["order-2", "order-1"]);
    assert!(ids(&api.get("/v1/events?since=2999-01-01T00:00:00Z").await.body).is_empty());
    let page = api.get("/v1/events?limit=1").await;
    assert_eq!(ids(&page.body), ["order-2"]);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = api.get(&format!("/v1/events?limit=1&cursor={cursor}")).await;
    assert_eq!(ids(&next.body), ["order-1"]);
    for bad in ["since=yesterday", "limit=0", "cursor=nope", "status=failed"] {
        let reply = api.get(&format!("/v1/events?{bad}")).await;
        assert_eq!((reply.status, reply.code()), (400, "validation_error"), "{bad}: {:?}", reply.body);
    }

    // One event: its payload as sent, and where it went.
    let shown = api
        .wait_until("/v1/events/order-1", WAIT, |b| {
            b["deliveries"].as_array().is_some_and(|d| d.len() == 2 && d.iter().all(|d| d["status"] == "delivered"))
        })
        .await;
    assert_eq!(shown["payload"], json!({"n": 1}));
    assert_eq!(shown["entity_id"], 5);
    let mut endpoints: Vec<&str> =
        shown["deliveries"].as_array().unwrap().iter().map(|d| d["endpoint_id"].as_str().unwrap()).collect();
    endpoints.sort();
    let mut expected = [all_id.as_str(), failures_id.as_str()];
    expected.sort();
    assert_eq!(endpoints, expected);
    // Recorded once its attempt ends, which may be just after the receiver has it.
    let other =
        api.wait_until("/v1/events/order-2", WAIT, |b| b["deliveries"].as_array().is_some_and(|d| !d.is_empty())).await;
    assert_eq!(other["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(api.get("/v1/events/order-3").await.status, 404);
    let neighbour = api.with_key(&api.mint_key("other", &["webhooks:read"]).await);
    assert_eq!(neighbour.get("/v1/events/order-1").await.status, 404);
    assert!(ids(&neighbour.get("/v1/events").await.body).is_empty());
    let producer = api.with_key(&api.mint_key("acme", &["events:write"]).await);
    assert_eq!(producer.get("/v1/events").await.status, 403, "reading takes webhooks:read");
}
