//! Seed 004's API (`/api/v1/webhooks`), every example of the seed replayed verbatim (only
//! the host changes), on the embedded service and on `serve --aws`, over real HTTP.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Api, Binary, Receiver, Service, seed_signature};

const BASE: &str = "/api/v1/webhooks";

/// The seed's endpoint shape: `is_active`, never `enabled`.
fn assert_seed_endpoint(endpoint: &Value) {
    assert!(endpoint["id"].is_string(), "{endpoint:?}");
    assert!(endpoint["is_active"].is_boolean(), "{endpoint:?}");
    assert!(endpoint.get("enabled").is_none(), "{endpoint:?}");
    assert!(endpoint["created_at"].is_string(), "{endpoint:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_of_seed_004_works_verbatim() {
    let service = Service::start().await;
    replay_seed_004(&service.api).await;
}

/// The same replay on DynamoDB and SQS: the AWS path runs the same handlers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_every_example_of_seed_004_works_verbatim() {
    let (_data, service) = Binary::serve_on_aws("dialect004", &[]);
    replay_seed_004(&service.api).await;
}

async fn replay_seed_004(api: &Api) {
    // POST /api/v1/webhooks, the seed's example body.
    let created = api
        .post(
            BASE,
            json!({
                "url": "https://example.com/webhooks/sidclaw",
                "events": ["approval.requested", "approval.approved", "approval.denied"],
                "description": "Approval notifications for Slack integration"
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let data = &created.body["data"];
    assert_seed_endpoint(data);
    assert_eq!(data["url"], "https://example.com/webhooks/sidclaw");
    assert_eq!(data["events"], json!(["approval.requested", "approval.approved", "approval.denied"]));
    assert_eq!(data["is_active"], true);
    assert_eq!(data["description"], "Approval notifications for Slack integration");
    let secret = data["secret"].as_str().unwrap();
    assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    let id = data["id"].as_str().unwrap().to_owned();

    // Errors: 400 validation_error for a bad URL, missing events or an unknown type.
    for bad in [
        json!({"url": "not a url", "events": ["approval.requested"]}),
        json!({"url": "https://example.com/h"}),
        json!({"url": "https://example.com/h", "events": []}),
        json!({"url": "https://example.com/h", "events": ["approval.maybe"]}),
    ] {
        let refused = api.post(BASE, bad.clone()).await;
        assert_eq!((refused.status, refused.code()), (400, "validation_error"), "{bad}: {:?}", refused.body);
    }

    // GET /api/v1/webhooks: never the secret.
    let listed = api.get(BASE).await;
    assert_eq!(listed.status, 200);
    let items = listed.body["data"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_seed_endpoint(&items[0]);
    assert!(items[0].get("secret").is_none());

    // GET /api/v1/webhooks/:id: does not include the secret.
    let shown = api.get(&format!("{BASE}/{id}")).await;
    assert_eq!(shown.status, 200);
    assert_seed_endpoint(&shown.body["data"]);
    assert!(shown.body["data"].get("secret").is_none());
    assert_eq!(shown.body["data"]["id"], id.as_str());

    // PATCH /api/v1/webhooks/:id, the seed's example, then is_active.
    let patched = api
        .patch(
            &format!("{BASE}/{id}"),
            json!({
                "events": ["approval.requested", "trace.completed"],
                "description": "Updated to include trace events"
            }),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_seed_endpoint(&patched.body["data"]);
    assert_eq!(patched.body["data"]["events"], json!(["approval.requested", "trace.completed"]));
    assert_eq!(patched.body["data"]["description"], "Updated to include trace events");
    let paused = api.patch(&format!("{BASE}/{id}"), json!({"is_active": false, "description": null})).await;
    assert_eq!(paused.body["data"]["is_active"], false);
    assert!(paused.body["data"]["description"].is_null());
    let refused = api.patch(&format!("{BASE}/{id}"), json!({"events": ["approval.maybe"]})).await;
    assert_eq!((refused.status, refused.code()), (400, "validation_error"));

    // Deliveries, and the test route, against a real receiver.
    let receiver = Receiver::start().await;
    let live = api.post(BASE, json!({"url": receiver.url("/sidclaw"), "events": ["approval.requested"]})).await;
    let live_id = live.body["data"]["id"].as_str().unwrap().to_owned();
    let live_secret = live.body["data"]["secret"].as_str().unwrap().to_owned();
    api.send_events(json!({"type": "approval.requested", "payload": {"approval": 1}})).await;
    let got = receiver.wait_for(1, Duration::from_secs(10)).await.remove(0);
    assert!(!got.header("x-webhook-id").is_empty());
    assert!(got.header("x-webhook-timestamp").contains('T'), "ISO 8601");
    assert_eq!(got.header("x-webhook-signature"), seed_signature(&live_secret, &got.body));
    let path = format!("{BASE}/{live_id}/deliveries");
    let history = api
        .wait_until(&format!("{path}?limit=50"), Duration::from_secs(10), |body| {
            body["data"][0]["status"] == "delivered"
        })
        .await;
    let delivery = &history["data"][0];
    for field in
        ["id", "event_type", "status", "http_status", "attempts", "created_at", "delivered_at", "next_retry_at"]
    {
        assert!(delivery.get(field).is_some(), "{field} missing: {delivery:?}");
    }
    assert_eq!(delivery["event_type"], "approval.requested");
    assert_eq!(delivery["http_status"], 200);
    assert_eq!(delivery["attempts"], 1);
    assert!(delivery.get("is_active").is_none() && delivery.get("data").is_none());
    let delivered = api.get(&format!("{path}?status=delivered")).await;
    assert_eq!(delivered.body["data"].as_array().unwrap().len(), 1);
    let failed = api.get(&format!("{path}?status=failed")).await;
    assert_eq!(failed.body["data"].as_array().unwrap().len(), 0);
    assert_eq!(api.get(&format!("{path}?limit=100")).await.status, 200);
    assert_eq!(api.get(&format!("{path}?limit=101")).await.code(), "validation_error");

    // POST /api/v1/webhooks/:id/test: the answer bare, as the seed shows it.
    let tested = api.raw("POST", &format!("{BASE}/{live_id}/test"), Vec::new()).await;
    assert_eq!(tested.status, 200, "{:?}", tested.body);
    assert_eq!(tested.body["delivered"], true);
    assert_eq!(tested.body["http_status"], 200);
    assert!(tested.body["response_time_ms"].is_u64());
    assert!(tested.body.get("data").is_none() && tested.body.get("error").is_none());
    receiver.always(500);
    let failing = api.raw("POST", &format!("{BASE}/{live_id}/test"), Vec::new()).await;
    assert_eq!(failing.body["delivered"], false);
    assert_eq!(failing.body["http_status"], 500);
    assert!(failing.body["error"].is_string());

    // DELETE /api/v1/webhooks/:id: 204, then 404 not_found everywhere.
    let deleted = api.delete(&format!("{BASE}/{id}")).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_null());
    for (method, route) in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/test")] {
        let body = (method == "PATCH").then(|| json!({"description": "x"}));
        let gone = api.call(method, &format!("{BASE}/{id}{route}"), body).await;
        assert_eq!((gone.status, gone.code()), (404, "not_found"), "{method} {route}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_refuses_keys_without_the_scope() {
    let service = Service::start().await;
    let api = &service.api;
    let reader = api.with_key(&api.mint_key("default", &["webhooks:read"]).await);
    let refused = reader.post(BASE, json!({"url": "https://example.com/h", "events": ["approval.requested"]})).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    assert!(refused.body.get("data").is_none(), "errors keep the one error shape");
    assert_eq!(reader.get(BASE).await.status, 200);
}
