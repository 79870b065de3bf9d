//! Seed 000's API (`/api/webhook_endpoints`), every example of the seed replayed verbatim
//! (only the host changes), on the embedded service over real HTTP.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Api, Binary, Receiver, Service, seed_signature};

const BASE: &str = "/api/webhook_endpoints";

fn is_hex_secret(value: &Value) -> bool {
    value.as_str().is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_of_seed_000_works_verbatim() {
    let service = Service::start().await;
    replay_seed_000(&service.api).await;
}

/// The same replay on DynamoDB and SQS: the AWS path runs the same handlers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_every_example_of_seed_000_works_verbatim() {
    let (_data, service) = Binary::serve_on_aws("dialect000", &[]);
    replay_seed_000(&service.api).await;
}

async fn replay_seed_000(api: &Api) {
    // Create an Endpoint.
    let created = api
        .post(
            BASE,
            json!({
                "webhook_endpoint": {
                    "url": "https://your-server.com/webhooks",
                    "events": ["playground.created", "playground.status.changed"],
                    "description": "CI/CD notifications"
                }
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let body = &created.body;
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("ep_")));
    assert_eq!(body["url"], "https://your-server.com/webhooks");
    assert!(is_hex_secret(&body["secret"]), "a 64-character hex secret: {body:?}");
    assert_eq!(body["events"], json!(["playground.created", "playground.status.changed"]));
    assert_eq!(body["description"], "CI/CD notifications");
    assert_eq!(body["enabled"], true);
    assert_eq!(body["failure_count"], 0);
    assert!(body["created_at"].as_str().is_some_and(|at| at.ends_with('Z')));
    let first = body["id"].as_str().unwrap().to_owned();

    // Optionally supply a secret; granular event filtering.
    let filtered = api
        .post(
            BASE,
            json!({
                "webhook_endpoint": {
                    "url": "https://your-server.com/webhooks",
                    "events": ["playground.created", "agent.updated"],
                    "secret": "your-custom-secret",
                    "event_filters": {
                        "playground.created": [1, 2, 3],
                        "agent.updated": [10, 20]
                    }
                }
            }),
        )
        .await;
    assert_eq!(filtered.status, 201, "{:?}", filtered.body);
    assert_eq!(filtered.body["secret"], "your-custom-secret");
    assert_eq!(filtered.body["event_filters"], json!({"playground.created": [1, 2, 3], "agent.updated": [10, 20]}));

    // List Endpoints.
    let listed = api.get(BASE).await;
    assert_eq!(listed.status, 200);
    let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().filter_map(|e| e["id"].as_str()).collect();
    assert!(ids.contains(&first.as_str()) && ids.len() == 2, "{ids:?}");
    assert!(listed.body["data"][0].get("secret").is_none(), "a list never shows secrets");

    // Show: the secret is always visible via the API (to a key that may write).
    let shown = api.get(&format!("{BASE}/{first}")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["secret"], body["secret"]);
    let reader = api.with_key(&api.mint_key("default", &["webhooks:read"]).await);
    let read_only = reader.get(&format!("{BASE}/{first}")).await;
    assert_eq!(read_only.status, 200);
    assert!(read_only.body.get("secret").is_none(), "{:?}", read_only.body);

    // Update an Endpoint.
    let updated = api.patch(&format!("{BASE}/{first}"), json!({"webhook_endpoint": {"enabled": false}})).await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["enabled"], false);
    assert_eq!(api.get(&format!("{BASE}/{first}")).await.body["enabled"], false);

    // Test an Endpoint (no body, as the seed's curl sends it) and view its delivery history.
    let receiver = Receiver::start().await;
    let live = api
        .post(BASE, json!({"webhook_endpoint": {"url": receiver.url("/hook"), "events": ["playground.created"]}}))
        .await;
    assert_eq!(live.status, 201, "{:?}", live.body);
    let live_id = live.body["id"].as_str().unwrap();
    let tested = api.raw("POST", &format!("{BASE}/{live_id}/test"), Vec::new()).await;
    assert_eq!(tested.status, 200, "{:?}", tested.body);
    assert_eq!(tested.body["delivered"], true);
    let got = receiver.wait_for(1, Duration::from_secs(5)).await.remove(0);
    assert_eq!(got.header("x-webhook-event"), "webhook.test");
    assert!(!got.header("x-webhook-delivery").is_empty());
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("x-webhook-signature"), seed_signature(live.body["secret"].as_str().unwrap(), &got.body));
    let history = api.get(&format!("{BASE}/{live_id}/deliveries")).await;
    assert_eq!(history.status, 200);
    assert_eq!(history.body["data"][0]["event_type"], "webhook.test");
    assert_eq!(history.body["data"][0]["status"], "delivered");

    // List Available Event Types.
    let types = api.get(&format!("{BASE}/event_types")).await;
    assert_eq!(types.status, 200);
    let names: Vec<&str> = types.body["data"].as_array().unwrap().iter().filter_map(|t| t["type"].as_str()).collect();
    for name in
        ["playground.created", "playground.status.changed", "agent.updated", "api_key.destroyed", "webhook.test"]
    {
        assert!(names.contains(&name), "{name} missing");
    }

    // To subscribe to all events, select every event type individually.
    let every: Vec<&str> = names.clone();
    let all = api.post(BASE, json!({"webhook_endpoint": {"url": receiver.url("/all"), "events": every}})).await;
    assert_eq!(all.status, 201, "{:?}", all.body);
    assert_eq!(all.body["events"].as_array().unwrap().len(), names.len());
    api.send_events(json!({"type": "api_key.destroyed", "entity_id": 7, "payload": {"n": 1}})).await;
    let got = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got[1].header("x-webhook-event"), "api_key.destroyed");
    let too_many = vec!["run.failed"; 501];
    let refused = api.post(BASE, json!({"webhook_endpoint": {"url": receiver.url("/x"), "events": too_many}})).await;
    assert_eq!(refused.body["error"]["details"][0]["field"], "events", "{:?}", refused.body);

    // Delete an Endpoint.
    let deleted = api.delete(&format!("{BASE}/{first}")).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(api.get(&format!("{BASE}/{first}")).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_000_scopes_and_bodies_are_held_as_on_v1() {
    let service = Service::start().await;
    let api = &service.api;
    let created =
        api.post(BASE, json!({"webhook_endpoint": {"url": "https://a.example/h", "events": ["run.failed"]}})).await;
    let id = created.body["id"].as_str().unwrap();

    // webhooks:read lists; webhooks:write creates, updates and tests; webhooks:delete deletes.
    let reader = api.with_key(&api.mint_key("default", &["webhooks:read"]).await);
    let writer = api.with_key(&api.mint_key("default", &["webhooks:write"]).await);
    let deleter = api.with_key(&api.mint_key("default", &["webhooks:delete"]).await);
    let body = json!({"webhook_endpoint": {"url": "https://a.example/h", "events": ["run.failed"]}});
    assert_eq!(reader.get(BASE).await.status, 200);
    assert_eq!(reader.post(BASE, body.clone()).await.code(), "forbidden");
    assert_eq!(reader.get(&format!("{BASE}/{id}/deliveries")).await.status, 200);
    assert_eq!(writer.post(BASE, body).await.status, 201);
    assert_eq!(writer.raw("POST", &format!("{BASE}/{id}/test"), Vec::new()).await.status, 200);
    assert_eq!(writer.delete(&format!("{BASE}/{id}")).await.code(), "forbidden");
    assert_eq!(deleter.delete(&format!("{BASE}/{id}")).await.status, 204);

    // The seed's wrapper is required, and nothing may sit beside it or inside it unknown.
    for bad in [
        json!({"url": "https://a.example/h", "events": ["run.failed"]}),
        json!({"webhook_endpoint": {"url": "https://a.example/h", "events": ["run.failed"]}, "extra": 1}),
        json!({"webhook_endpoint": {"url": "https://a.example/h", "events": ["run.failed"], "colour": "red"}}),
    ] {
        let refused = api.post(BASE, bad.clone()).await;
        assert_eq!(refused.status, 400, "{bad}: {:?}", refused.body);
        assert_eq!(refused.code(), "validation_error");
    }
    let invalid =
        api.post(BASE, json!({"webhook_endpoint": {"url": "ftp://a.example", "events": ["run.failed"]}})).await;
    assert_eq!(invalid.body["error"]["details"][0]["field"], "url", "{:?}", invalid.body);
    assert_eq!(api.get(&format!("{BASE}?colour=red")).await.status, 400, "unknown query parameters are refused");
    assert_eq!(api.get(&format!("{BASE}/ep_unknown")).await.status, 404);
}
