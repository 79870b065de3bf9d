//! Seed 003's API (`/webhooks`): every route of the seed, called as the seed describes it
//! (only the host changes), on the embedded service and on `serve --aws`, over real HTTP.

use std::time::Duration;

use serde_json::json;
use webhooks_tests::{Api, Binary, Receiver, Service, seed_signature};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_seed_003_works_as_described() {
    let service = Service::start().await;
    replay_seed_003(&service.api).await;
}

/// The same replay on DynamoDB and SQS: the AWS path runs the same handlers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_every_route_of_seed_003_works_as_described() {
    let (_data, service) = Binary::serve_on_aws("dialect003", &[]);
    replay_seed_003(&service.api).await;
}

async fn replay_seed_003(api: &Api) {
    let receiver = Receiver::start().await;
    // Create webhook subscription: name, url and events required; secret and headers optional.
    let created = api
        .post(
            "/webhooks",
            json!({
                "name": "Workflow alerts",
                "url": receiver.url("/workflows"),
                "events": ["workflow.completed", "workflow.failed", "workflow.step.failed"],
                "secret": "a-secret-of-my-own-choosing",
                "headers": {"X-Team": "ops"}
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let body = &created.body;
    assert_eq!(body["name"], "Workflow alerts");
    assert_eq!(body["active"], true);
    assert_eq!(body["events"], json!(["workflow.completed", "workflow.failed", "workflow.step.failed"]));
    assert_eq!(body["headers"], json!({"X-Team": "ops"}));
    for field in ["id", "url", "created_at", "updated_at"] {
        assert!(body[field].is_string(), "{field}: {body:?}");
    }
    assert!(body.get("description").is_none() && body.get("enabled").is_none(), "{body:?}");
    let id = body["id"].as_str().unwrap().to_owned();

    // The name is required, non-blank, at most 255 characters; unknown fields are refused.
    let url = receiver.url("/w");
    for (bad, field) in [
        (json!({"url": url, "events": ["workflow.failed"]}), "body"),
        (json!({"name": " ", "url": url, "events": ["workflow.failed"]}), "name"),
        (json!({"name": "n".repeat(256), "url": url, "events": ["workflow.failed"]}), "name"),
        (json!({"name": "n", "url": url, "events": ["workflow.failed"], "description": "d"}), "body"),
        (
            json!({"name": "n", "url": format!("https://a.example/{}", "p".repeat(2048)), "events": ["workflow.failed"]}),
            "url",
        ),
    ] {
        let refused = api.post("/webhooks", bad.clone()).await;
        assert_eq!(refused.status, 400, "{bad}: {:?}", refused.body);
        assert_eq!(refused.body["error"]["details"][0]["field"], field, "{bad}: {:?}", refused.body);
    }

    // List and get.
    let listed = api.get("/webhooks").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["data"][0]["name"], "Workflow alerts");
    assert_eq!(listed.body["data"][0]["active"], true);
    let shown = api.get(&format!("/webhooks/{id}")).await;
    assert_eq!((shown.status, &shown.body["name"]), (200, &json!("Workflow alerts")));

    // Events arrive signed with the given secret and carry the custom headers.
    let events: Vec<_> = (0..5).map(|n| json!({"type": "workflow.failed", "payload": {"n": n}})).collect();
    api.send_events(json!({"events": events})).await;
    api.send_events(json!({"type": "workflow.step.failed", "payload": {"n": 5}})).await;
    let got = receiver.wait_for(6, Duration::from_secs(10)).await;
    assert_eq!(got[0].header("x-team"), "ops");
    assert_eq!(got[0].header("x-webhook-signature"), seed_signature("a-secret-of-my-own-choosing", &got[0].body));

    // Test webhook: a workflow.completed event, which then appears in the logs.
    let tested = api.raw("POST", &format!("/webhooks/{id}/test"), Vec::new()).await;
    assert_eq!(tested.status, 200, "{:?}", tested.body);
    assert_eq!(tested.body["delivered"], true);
    let got = receiver.wait_for(7, Duration::from_secs(10)).await;
    assert!(got.iter().any(|g| g.header("x-webhook-event") == "workflow.completed"));

    // List webhook delivery logs: limit (default 50) and offset (default 0).
    let logs = api
        .wait_until(&format!("/webhooks/{id}/logs"), Duration::from_secs(10), |body| {
            body["data"].as_array().is_some_and(|logs| logs.len() == 7)
        })
        .await;
    assert_eq!(logs["data"][0]["event_type"], "workflow.completed", "newest first");
    let all_ids: Vec<_> = logs["data"].as_array().unwrap().iter().map(|d| d["id"].clone()).collect();
    let page = api.get(&format!("/webhooks/{id}/logs?limit=2&offset=3")).await;
    assert_eq!(page.status, 200);
    let page_ids: Vec<_> = page.body["data"].as_array().unwrap().iter().map(|d| d["id"].clone()).collect();
    assert_eq!(page_ids, all_ids[3..5]);
    assert_eq!(api.get(&format!("/webhooks/{id}/logs?offset=7")).await.body["data"], json!([]));
    for bad in ["limit=0", "limit=101", "offset=-1", "offset=10001", "event_type=workflow.failed", "page=2"] {
        let refused = api.get(&format!("/webhooks/{id}/logs?{bad}")).await;
        assert_eq!(refused.code(), "validation_error", "{bad}");
    }

    // List all delivery logs, filtered by event type.
    let other =
        api.post("/webhooks", json!({"name": "Other", "url": receiver.url("/o"), "events": ["workflow.failed"]})).await;
    assert_eq!(other.status, 201);
    api.send_events(json!({"type": "workflow.failed", "payload": {"n": 6}})).await;
    let all = api
        .wait_until("/webhooks/logs/all?event_type=workflow.failed", Duration::from_secs(10), |body| {
            // Five to the first subscription, then one event to both.
            body["data"].as_array().is_some_and(|logs| logs.len() == 7)
        })
        .await;
    assert!(all["data"].as_array().unwrap().iter().all(|d| d["event_type"] == "workflow.failed"));
    let everything = api.get("/webhooks/logs/all").await;
    assert_eq!(everything.body["data"].as_array().unwrap().len(), 9);
    let skipped = api.get("/webhooks/logs/all?event_type=workflow.failed&limit=3&offset=6").await;
    assert_eq!(skipped.body["data"].as_array().unwrap().len(), 1);

    // Update: a new name, disabled; then delete.
    let updated = api.patch(&format!("/webhooks/{id}"), json!({"name": "Renamed", "active": false})).await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!((&updated.body["name"], &updated.body["active"]), (&json!("Renamed"), &json!(false)));
    let blank = api.patch(&format!("/webhooks/{id}"), json!({"name": ""})).await;
    assert_eq!(blank.body["error"]["details"][0]["field"], "name");
    assert_eq!(api.delete(&format!("/webhooks/{id}")).await.status, 204);
    assert_eq!(api.get(&format!("/webhooks/{id}")).await.status, 404);
    assert_eq!(api.get(&format!("/webhooks/{id}/logs")).await.status, 404);
}
