//! An endpoint's `metadata` (Svix's): the tenant's own notes, kept, shown, replaced by a
//! PATCH, never sent to the receiver; its limits; on the embedded service and on
//! `serve --aws`.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Api, Binary, Receiver, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_kept_and_never_sent() {
    let service = Service::start().await;
    metadata(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_metadata_is_kept_and_never_sent() {
    let (_data, service) = Binary::serve_on_aws("metadata", &[]);
    metadata(&service.api).await;
}

async fn metadata(api: &Api) {
    let receiver = Receiver::start().await;
    let notes = json!({"customer": "Acme GmbH", "plan": "pro"});
    let created = api
        .create_endpoint_with(json!({"url": receiver.url("/"), "events": ["run.completed"], "metadata": notes}))
        .await;
    assert_eq!(created["metadata"], notes);
    let id = created["id"].as_str().unwrap();
    assert_eq!(api.get(&format!("/v1/webhooks/{id}")).await.body["metadata"], notes);
    let listed = api.get("/v1/webhooks").await.body;
    assert!(listed["data"].as_array().unwrap().iter().any(|e| e["metadata"] == notes));
    let plain = api.create_endpoint(&receiver.url("/plain"), &["run.failed"]).await;
    assert_eq!(plain["metadata"], json!({}));

    api.send_events(json!({"type": "run.completed", "payload": {"n": 1}})).await;
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got[0].json(), json!({"n": 1}));
    assert!(got[0].header("customer").is_empty() && got[0].header("x-customer").is_empty(), "never sent");

    // A PATCH replaces it whole; other fields leave it alone.
    let replaced = api.patch(&format!("/v1/webhooks/{id}"), json!({"metadata": {"plan": "enterprise"}})).await;
    assert_eq!(replaced.body["metadata"], json!({"plan": "enterprise"}), "{:?}", replaced.body);
    let other = api.patch(&format!("/v1/webhooks/{id}"), json!({"description": "d"})).await;
    assert_eq!(other.body["metadata"], json!({"plan": "enterprise"}));

    // Limits: 32 entries, keys of 1 to 64 characters, values of up to 1024; strings only.
    let many: serde_json::Map<String, Value> = (0..33).map(|i| (format!("k{i}"), json!("v"))).collect();
    for (bad, field) in [
        (Value::Object(many), "metadata"),
        (json!({"": "v"}), "metadata."),
        (json!({"k".repeat(65): "v"}), &*format!("metadata.{}", "k".repeat(65))),
        (json!({"k": "v".repeat(1025)}), "metadata.k"),
    ] {
        let reply = api.patch(&format!("/v1/webhooks/{id}"), json!({"metadata": bad})).await;
        assert_eq!(reply.status, 400, "{:?}", reply.body);
        assert_eq!(reply.body["error"]["details"][0]["field"], field, "{:?}", reply.body);
    }
    let typed = api.patch(&format!("/v1/webhooks/{id}"), json!({"metadata": {"n": 1}})).await;
    assert_eq!((typed.status, typed.code()), (400, "validation_error"));
    let edge: serde_json::Map<String, Value> =
        (0..32).map(|i| (format!("{i:0>64}"), json!("v".repeat(1024)))).collect();
    let fits = api.patch(&format!("/v1/webhooks/{id}"), json!({"metadata": edge})).await;
    assert_eq!(fits.status, 200, "{:?}", fits.body);
}
