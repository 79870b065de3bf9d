//! `Idempotency-Key` on POSTs, over real HTTP: a repeat gets the first answer without the
//! request running again (one endpoint, one event, one delivery), the key on another request
//! is a 422, keys are per tenant; on the embedded service and on `serve --aws`.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Api, Binary, Receiver, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_post_runs_once() {
    let service = Service::start().await;
    idempotency(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_a_repeated_post_runs_once() {
    let (_data, service) = Binary::serve_on_aws("idempotency", &[]);
    idempotency(&service.api).await;
}

/// POSTs `body` to `path` with `key`; answers the status, whether it was replayed, the body.
async fn post(api: &Api, path: &str, key: &str, body: &Value) -> (u16, bool, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", api.base))
        .bearer_auth(&api.key)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    let text = response.text().await.unwrap();
    (status, replayed, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn idempotency(api: &Api) {
    let receiver = Receiver::start().await;
    let endpoint = json!({"url": receiver.url("/"), "events": ["run.completed"]});
    let (status, replayed, first) = post(api, "/v1/webhooks", "create-1", &endpoint).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    let (status, replayed, again) = post(api, "/v1/webhooks", "create-1", &endpoint).await;
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again, first, "the first answer, secret and all");
    let listed = api.get("/v1/webhooks").await.body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "created once");

    // The key on a different request is refused; a bad key is refused.
    let other = json!({"url": receiver.url("/other"), "events": ["run.completed"]});
    let (status, _, reused) = post(api, "/v1/webhooks", "create-1", &other).await;
    assert_eq!((status, reused["error"]["code"].as_str()), (422, Some("idempotency_key_reused")), "{reused}");
    assert_eq!(
        post(api, "/v1/webhooks/x/test", "create-1", &json!({})).await.0,
        422,
        "another route is another request"
    );
    for bad in ["with space", &"k".repeat(256)] {
        let (status, _, body) = post(api, "/v1/webhooks", bad, &other).await;
        assert_eq!((status, body["error"]["details"][0]["field"].as_str()), (400, Some("Idempotency-Key")), "{body}");
    }

    // Events without ids: a retried POST is accepted once, delivered once.
    let event = json!({"type": "run.completed", "payload": {"n": 1}});
    let (status, _, ids) = post(api, "/v1/events", "emit-1", &event).await;
    assert_eq!(status, 202, "{ids}");
    let (status, replayed, same) = post(api, "/v1/events", "emit-1", &event).await;
    assert_eq!((status, replayed, &same), (202, true, &ids));
    receiver.wait_for(1, Duration::from_secs(20)).await;
    receiver.assert_stays_at(1, Duration::from_millis(1500)).await;

    // A refusal is an answer too: kept and given again.
    let invalid = json!({"url": "ftp://nope", "events": []});
    let (status, _, refused) = post(api, "/v1/webhooks", "bad-1", &invalid).await;
    assert_eq!(status, 400);
    assert_eq!(post(api, "/v1/webhooks", "bad-1", &invalid).await, (400, true, refused));

    // Keys are per tenant; without a key, every POST runs.
    let neighbour = api.with_key(&api.mint_key("other", &["webhooks:read", "webhooks:write"]).await);
    let (status, replayed, theirs) = post(&neighbour, "/v1/webhooks", "create-1", &endpoint).await;
    assert_eq!((status, replayed), (201, false), "{theirs}");
    assert_ne!(theirs["id"], first["id"]);
    api.create_endpoint(&receiver.url("/"), &["run.completed"]).await;
    api.create_endpoint(&receiver.url("/"), &["run.completed"]).await;
    assert_eq!(api.get("/v1/webhooks").await.body["data"].as_array().unwrap().len(), 3);
}
