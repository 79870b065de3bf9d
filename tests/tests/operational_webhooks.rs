//! Operational webhooks, on both backends through the real `serve`: the operator subscribes
//! an endpoint of its own (admin only), drives a tenant's endpoint to auto-disable and
//! another to recover, and receives, signed with its operational webhook's secret,
//! `endpoint.created`, `delivery.failing`, `delivery.exhausted`, `endpoint.disabled`,
//! `delivery.recovered`, then `endpoint.updated` and `endpoint.enabled` for a PATCH and
//! `endpoint.deleted`. Nothing is said about the operator's own endpoint.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Binary, Receiver, data_dir, seed_signature};

/// 3 attempts (two retries a second apart); the third failure disables, the second is
/// "failing".
const ARGS: &[&str] = &["--retry-schedule", "1s,1s", "--disable-after", "3", "--delivery-failing-after", "2"];

/// What the operator got: `(type, data)` of each delivery, each checked against `secret`.
fn told(operator: &Receiver, secret: &str) -> Vec<(String, Value)> {
    operator
        .received()
        .iter()
        .map(|got| {
            assert_eq!(got.header("x-webhook-signature"), seed_signature(secret, &got.body), "signed with its secret");
            let body = got.json();
            assert!(body["timestamp"].is_string(), "{body}");
            assert_eq!(got.header("x-webhook-event"), body["type"].as_str().unwrap());
            (body["type"].as_str().unwrap().to_owned(), body["data"].clone())
        })
        .collect()
}

fn of_type<'a>(told: &'a [(String, Value)], event_type: &str) -> Vec<&'a Value> {
    told.iter().filter(|(t, _)| t == event_type).map(|(_, data)| data).collect()
}

async fn wait_until_told(operator: &Receiver, secret: &str, count: usize) -> Vec<(String, Value)> {
    operator.wait_for(count, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = told(operator, secret);
    assert_eq!(got.len(), count, "exactly these: {got:#?}");
    got
}

async fn the_operator_hears_of_endpoints_failing_disabled_and_recovered(service: Binary) {
    let api = &service.api;
    // Admin only; the reserved tenant is nobody's.
    let tenant_key = api.mint_key("acme", &["webhooks:write", "webhooks:read", "webhooks:delete"]).await;
    let body = json!({"url": "https://example.com", "events": ["endpoint.*"]});
    let refused = api.with_key(&tenant_key).post("/v1/operational-webhooks", body).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let reserved = api.post("/v1/api-keys", json!({"name": "x", "tenant": "_operator", "scopes": ["admin"]})).await;
    assert_eq!((reserved.status, reserved.code()), (400, "validation_error"), "{:?}", reserved.body);
    let types = api.get("/v1/operational-webhooks/event-types").await;
    assert_eq!(types.body["data"].as_array().map(Vec::len), Some(8), "{:?}", types.body);
    // Operational types only: a tenant's event type is not one.
    let wrong =
        api.post("/v1/operational-webhooks", json!({"url": "https://example.com", "events": ["run.failed"]})).await;
    assert_eq!((wrong.status, wrong.code()), (400, "validation_error"), "{:?}", wrong.body);

    let operator = Receiver::start().await;
    let created = api
        .post("/v1/operational-webhooks", json!({"url": operator.url("/ops"), "events": ["endpoint.*", "delivery.*"]}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let (ops_id, secret) =
        (created.body["id"].as_str().unwrap().to_owned(), created.body["secret"].as_str().unwrap().to_owned());
    let listed = api.get("/v1/operational-webhooks").await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1), "{:?}", listed.body);
    assert_eq!(api.get(&format!("/v1/operational-webhooks/{ops_id}")).await.body["url"], operator.url("/ops"));
    assert_eq!(api.get("/v1/webhooks").await.body["data"], json!([]), "not among the tenant's endpoints");

    // A tenant's endpoints: one that never answers well, one that recovers.
    let (broken, flaky) = (Receiver::start().await, Receiver::start().await);
    broken.always(500);
    flaky.script(&[500, 500]);
    let acme = api.with_key(&tenant_key);
    let dead = acme.create_endpoint(&broken.url("/a"), &["run.failed"]).await;
    let recovering = acme.create_endpoint(&flaky.url("/b"), &["agent.created"]).await;
    let (dead_id, recovering_id) = (dead["id"].as_str().unwrap(), recovering["id"].as_str().unwrap());
    let events_key = api.mint_key("acme", &["events:write"]).await;
    api.with_key(&events_key).send_events(json!({"type": "run.failed", "payload": {"n": 1}})).await;
    api.with_key(&events_key).send_events(json!({"type": "agent.created", "payload": {"n": 2}})).await;

    let got = wait_until_told(&operator, &secret, 7).await;
    let created: Vec<&str> =
        of_type(&got, "endpoint.created").iter().map(|d| d["endpoint_id"].as_str().unwrap()).collect();
    assert!(created.contains(&dead_id) && created.contains(&recovering_id) && created.len() == 2, "{got:#?}");
    assert!(got.iter().all(|(_, data)| data["tenant"] == "acme"), "nothing about the operator's own: {got:#?}");
    let failing = of_type(&got, "delivery.failing");
    assert_eq!(failing.len(), 2, "{got:#?}");
    assert!(failing.iter().all(|d| d["failures"] == 2 && d["delivery_id"].as_str().unwrap().starts_with("del_")));
    let exhausted = of_type(&got, "delivery.exhausted");
    assert_eq!(exhausted.len(), 1, "{got:#?}");
    assert_eq!(exhausted[0]["endpoint_id"], dead_id);
    let dead_deliveries = acme.get(&format!("/v1/webhooks/{dead_id}/deliveries")).await;
    assert_eq!(exhausted[0]["delivery_id"], dead_deliveries.body["data"][0]["id"], "{:?}", dead_deliveries.body);
    let disabled = of_type(&got, "endpoint.disabled");
    assert_eq!(
        (disabled[0]["endpoint_id"].as_str(), disabled[0]["reason"].as_str()),
        (Some(dead_id), Some("failures"))
    );
    let recovered = of_type(&got, "delivery.recovered");
    assert_eq!(recovered.len(), 1, "{got:#?}");
    assert_eq!(recovered[0]["endpoint_id"], recovering_id);
    assert!(got.iter().all(|(_, data)| !data.to_string().contains("whsec_")), "never a secret");

    // The tenant's own changes.
    let enabled = acme.patch(&format!("/v1/webhooks/{dead_id}"), json!({"enabled": true})).await;
    assert_eq!(enabled.status, 200, "{:?}", enabled.body);
    assert_eq!(acme.delete(&format!("/v1/webhooks/{recovering_id}")).await.status, 204);
    let got = wait_until_told(&operator, &secret, 10).await;
    assert_eq!(of_type(&got, "endpoint.updated")[0]["endpoint_id"], dead_id);
    assert_eq!(of_type(&got, "endpoint.enabled")[0]["endpoint_id"], dead_id);
    assert_eq!(of_type(&got, "endpoint.deleted")[0]["endpoint_id"], recovering_id);

    // Its history, as an endpoint's.
    let history = api.get(&format!("/v1/operational-webhooks/{ops_id}/deliveries?status=delivered&limit=100")).await;
    assert_eq!(history.body["data"].as_array().map(Vec::len), Some(10), "{:?}", history.body);
    let patched = api.patch(&format!("/v1/operational-webhooks/{ops_id}"), json!({"description": "pager"})).await;
    assert_eq!((patched.status, patched.body["description"].as_str()), (200, Some("pager")));
    assert_eq!(api.delete(&format!("/v1/operational-webhooks/{ops_id}")).await.status, 204);
    assert_eq!(api.get(&format!("/v1/operational-webhooks/{ops_id}")).await.status, 404);
    operator.assert_stays_at(10, Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    let data = data_dir();
    let service = Binary::serve(data.path(), ARGS, Some(webhooks_tests::ADMIN_KEY));
    the_operator_hears_of_endpoints_failing_disabled_and_recovered(service).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynamodb_and_sqs() {
    let (_data, service) = Binary::serve_on_aws("operational", ARGS);
    the_operator_hears_of_endpoints_failing_disabled_and_recovered(service).await;
}
