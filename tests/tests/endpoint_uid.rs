//! An endpoint's `uid` (Svix's): the tenant's own id for it, unique within the tenant, and
//! usable in place of the id in every route that names an endpoint (the seeds' too); on the
//! embedded service and on `serve --aws`.

use std::time::Duration;

use serde_json::json;
use webhooks_tests::{Api, Binary, Receiver, Service};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uid_names_the_endpoint_in_every_route() {
    let service = Service::start().await;
    uids(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_a_uid_names_the_endpoint_in_every_route() {
    let (_data, service) = Binary::serve_on_aws("uids", &[]);
    uids(&service.api).await;
}

async fn uids(api: &Api) {
    let receiver = Receiver::start().await;
    let created =
        api.create_endpoint_with(json!({"url": receiver.url("/"), "events": ["run.failed"], "uid": "acme-prod"})).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["uid"], "acme-prod");
    let shown = api.get("/v1/webhooks/acme-prod").await;
    assert_eq!((shown.status, shown.body["id"].as_str()), (200, Some(id.as_str())), "{:?}", shown.body);
    assert_eq!(api.get(&format!("/v1/webhooks/{id}")).await.body["uid"], "acme-prod");
    let plain = api.create_endpoint(&receiver.url("/plain"), &["run.completed"]).await;
    assert_eq!(plain["uid"], json!(null));

    // Unique within the tenant; another tenant has its own.
    let twin = api
        .post("/v1/webhooks", json!({"url": receiver.url("/2"), "events": ["run.failed"], "uid": "acme-prod"}))
        .await;
    assert_eq!((twin.status, twin.code()), (409, "conflict"), "{:?}", twin.body);
    assert!(twin.body["error"]["message"].as_str().unwrap().contains("acme-prod"), "{:?}", twin.body);
    let listed = api.get("/v1/webhooks").await.body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "the refused one was not created");
    let globex = api.with_key(&api.mint_key("globex", &["admin"]).await);
    let theirs = globex
        .create_endpoint_with(json!({"url": receiver.url("/g"), "events": ["run.failed"], "uid": "acme-prod"}))
        .await;
    assert_eq!(globex.get("/v1/webhooks/acme-prod").await.body["id"], theirs["id"]);
    assert_eq!(api.get("/v1/webhooks/acme-prod").await.body["id"], id.as_str(), "each tenant its own");

    // Every route that names an endpoint takes the uid.
    let tested = api.post("/v1/webhooks/acme-prod/test", json!({})).await;
    assert_eq!((tested.status, &tested.body["delivered"]), (200, &json!(true)), "{:?}", tested.body);
    receiver.wait_for(1, WAIT).await;
    let changed = api.patch("/v1/webhooks/acme-prod", json!({"description": "prod"})).await;
    assert_eq!((changed.status, &changed.body["description"]), (200, &json!("prod")), "{:?}", changed.body);
    api.send_events(json!({"type": "run.failed", "payload": {"n": 1}})).await;
    receiver.wait_for(2, WAIT).await;
    let deliveries = api
        .wait_until("/v1/webhooks/acme-prod/deliveries?status=delivered", WAIT, |b| {
            !b["data"].as_array().unwrap().is_empty()
        })
        .await;
    let delivery = deliveries["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(api.get(&format!("/v1/webhooks/acme-prod/deliveries/{delivery}")).await.status, 200);
    let resent = api.post(&format!("/v1/webhooks/acme-prod/deliveries/{delivery}/resend"), json!({})).await;
    assert_eq!(resent.status, 202, "{:?}", resent.body);
    receiver.wait_for(3, WAIT).await;
    assert_eq!(api.get("/v1/webhooks/acme-prod/secret").await.status, 200);
    assert_eq!(api.post("/v1/webhooks/acme-prod/secret/rotate", json!({})).await.status, 200);
    let recover = api.post("/v1/webhooks/acme-prod/recover", json!({"since": "2026-01-01T00:00:00Z"})).await;
    assert_eq!((recover.status, &recover.body["endpoint_id"]), (202, &json!(id)), "{:?}", recover.body);
    for path in ["/api/webhook_endpoints/acme-prod", "/api/v1/webhooks/acme-prod", "/webhooks/acme-prod/logs"] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, 200, "{path}: {:?}", reply.body);
    }
    assert_eq!(api.get("/api/v1/webhooks/acme-prod").await.body["data"]["id"], id.as_str());

    // Renamed: the old uid names nothing and is free at once; null drops it.
    let renamed = api.patch(&format!("/v1/webhooks/{id}"), json!({"uid": "acme-live"})).await;
    assert_eq!(renamed.body["uid"], "acme-live", "{:?}", renamed.body);
    assert_eq!(api.get("/v1/webhooks/acme-prod").await.code(), "not_found");
    let plain_id = plain["id"].as_str().unwrap();
    let took = api.patch(&format!("/v1/webhooks/{plain_id}"), json!({"uid": "acme-prod"})).await;
    assert_eq!(took.body["uid"], "acme-prod", "{:?}", took.body);
    let clash = api.patch("/v1/webhooks/acme-prod", json!({"uid": "acme-live"})).await;
    assert_eq!((clash.status, clash.code()), (409, "conflict"), "{:?}", clash.body);
    let dropped = api.patch("/v1/webhooks/acme-prod", json!({"uid": null})).await;
    assert_eq!(dropped.body["uid"], json!(null), "{:?}", dropped.body);
    assert_eq!(api.get("/v1/webhooks/acme-prod").await.status, 404);

    // Deleted by its uid: the uid is free for a new endpoint.
    assert_eq!(api.delete("/v1/webhooks/acme-live").await.status, 204);
    assert_eq!(api.get(&format!("/v1/webhooks/{id}")).await.status, 404);
    api.create_endpoint_with(json!({"url": receiver.url("/3"), "events": ["run.failed"], "uid": "acme-live"})).await;

    // Its form: letters, digits and ._- from a letter or digit, at most 256, never an id's.
    let an_id = "ep_01JZZZZZZZZZZZZZZZZZZZZZZZ";
    for bad in [json!(""), json!("-x"), json!("a/b"), json!("a b"), json!("u".repeat(257)), json!(an_id), json!(7)] {
        let reply =
            api.post("/v1/webhooks", json!({"url": receiver.url("/4"), "events": ["run.failed"], "uid": bad})).await;
        assert_eq!((reply.status, reply.code()), (400, "validation_error"), "{bad}: {:?}", reply.body);
    }
    let edge = "u".repeat(256);
    api.create_endpoint_with(json!({"url": receiver.url("/5"), "events": ["run.failed"], "uid": edge})).await;
    assert_eq!(api.get(&format!("/v1/webhooks/{edge}")).await.status, 200);
    for unknown in ["nobody", "a%20b", &"u".repeat(2000)] {
        assert_eq!(api.get(&format!("/v1/webhooks/{unknown}")).await.status, 404, "{unknown}");
    }
}
