//! A tenant's own event types through the API, over real HTTP to real receivers: created,
//! listed beside the default catalog, subscribed to, their JSON Schema holding every event's
//! payload, archived, deleted only when nothing needs them; on the embedded service and on
//! `serve --aws`. Also: unknown types accepted when the deployment says so, and an endpoint
//! subscribed to 500 types one by one.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Api, Binary, Receiver, Service};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_own_types() {
    let service = Service::start().await;
    own_types(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_a_tenants_own_types() {
    let (_data, service) = Binary::serve_on_aws("event-types", &[]);
    own_types(&service.api).await;
}

fn names(list: &Value) -> Vec<&str> {
    list["data"].as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap()).collect()
}

async fn own_types(admin: &Api) {
    let writer = admin.with_key(&admin.mint_key("acme", &["event_types:write", "webhooks:read"]).await);
    let app = admin.with_key(&admin.mint_key("acme", &["webhooks:read", "webhooks:write", "events:write"]).await);
    let neighbour = admin.with_key(&admin.mint_key("other", &["webhooks:read", "events:write"]).await);
    let schema = json!({
        "type": "object",
        "required": ["invoice_id", "amount"],
        "properties": {"invoice_id": {"type": "string"}, "amount": {"type": "integer", "minimum": 0}}
    });

    // Created by a key with event_types:write, not by one without.
    let paid =
        json!({"name": "invoice.paid", "description": "An invoice was paid", "family": "Billing", "schema": schema});
    let refused = app.post("/v1/event-types", paid.clone()).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"), "{:?}", refused.body);
    let created = writer.post("/v1/event-types", paid.clone()).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["type"], "invoice.paid");
    assert_eq!(created.body["family"], "Billing");
    assert_eq!(created.body["source"], "tenant");
    assert_eq!(created.body["schema"], schema);
    let voided = writer.post("/v1/event-types", json!({"type": "invoice.voided"})).await;
    assert_eq!((voided.status, &voided.body["family"]), (201, &json!("invoice")), "{:?}", voided.body);
    assert_eq!(writer.post("/v1/event-types", paid.clone()).await.status, 409, "a second time");

    // Bad input names its field; a default type's name is taken.
    for (body, field) in [
        (json!({"name": "invoice paid"}), "name"),
        (json!({"name": "invoice.*"}), "name"),
        (json!({"name": "invoice.x", "schema": {"type": "nonsense"}}), "schema"),
        (json!({"name": "invoice.x", "schema": {"$ref": "https://example.com/s.json"}}), "schema"),
        (json!({"name": "invoice.x", "schema": "a string"}), "schema"),
        (json!({"name": "invoice.x", "family": " "}), "family"),
        (json!({"name": "invoice.x", "description": "d".repeat(1001)}), "description"),
    ] {
        let reply = writer.post("/v1/event-types", body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["error"]["details"][0]["field"], field, "{body}: {:?}", reply.body);
    }
    assert_eq!(writer.post("/v1/event-types", json!({"name": "invoice.x", "colour": "red"})).await.status, 400);
    let taken = writer.post("/v1/event-types", json!({"name": "run.failed"})).await;
    assert_eq!((taken.status, taken.code()), (409, "conflict"), "{:?}", taken.body);

    // Listed after the default catalog; shown one by one; the other tenant sees none of them.
    let list = app.get("/v1/event-types").await;
    assert_eq!(list.status, 200);
    let listed = names(&list.body);
    assert_eq!(listed[listed.len() - 2..], ["invoice.paid", "invoice.voided"]);
    assert!(listed.contains(&"run.failed"));
    assert_eq!(app.get("/v1/event-types/invoice.paid").await.body["description"], "An invoice was paid");
    assert_eq!(app.get("/v1/event-types/run.failed").await.body["source"], "catalog");
    assert_eq!(neighbour.get("/v1/event-types/invoice.paid").await.status, 404);
    assert!(!names(&neighbour.get("/v1/event-types").await.body).contains(&"invoice.paid"));
    assert_eq!(app.get("/v1/event-types?archived=true").await.status, 400, "unknown parameter");

    // Subscribed to by name or family; the payload schema holds every event.
    let receiver = Receiver::start().await;
    let endpoint = app
        .create_endpoint_with(json!({
            "url": receiver.url("/billing"),
            "events": ["invoice.*"],
            "event_filters": {"invoice.paid": {"currency": ["EUR"]}},
        }))
        .await;
    let id = endpoint["id"].as_str().unwrap().to_owned();
    let good = json!({"type": "invoice.paid", "payload": {"invoice_id": "in_1", "amount": 5, "currency": "EUR"}});
    app.send_events(good).await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].json()["invoice_id"], "in_1");
    for (payload, field) in [
        (json!({"invoice_id": "in_2", "amount": "5"}), "payload/amount"),
        (json!({"invoice_id": "in_2", "amount": -1}), "payload/amount"),
        (json!({"amount": 1}), "payload"),
    ] {
        let reply = app.post("/v1/events", json!({"type": "invoice.paid", "payload": payload})).await;
        assert_eq!(reply.status, 400, "{:?}", reply.body);
        assert_eq!(reply.body["error"]["details"][0]["field"], field, "{:?}", reply.body);
    }
    let batch = json!({"events": [
        {"type": "invoice.voided", "payload": {}},
        {"type": "invoice.paid", "payload": {"invoice_id": 7, "amount": 1}},
    ]});
    let reply = app.post("/v1/events", batch).await;
    assert_eq!(reply.body["error"]["details"][0]["field"], "events[1].payload/invoice_id", "{:?}", reply.body);
    let unknown = app.post("/v1/events", json!({"type": "invoice.refunded", "payload": {}})).await;
    assert_eq!(unknown.body["error"]["details"][0]["field"], "type", "{:?}", unknown.body);
    let elsewhere = neighbour.post("/v1/events", json!({"type": "invoice.voided", "payload": {}})).await;
    assert_eq!(elsewhere.status, 400, "another tenant's type is unknown here");
    // The test route sends a tenant's type too.
    let test = app.post(&format!("/v1/webhooks/{id}/test"), json!({"event_type": "invoice.voided"})).await;
    assert_eq!((test.status, &test.body["delivered"]), (200, &json!(true)), "{:?}", test.body);
    receiver.wait_for(2, WAIT).await;

    // Archived: hidden from the list unless asked, still sent and subscribable.
    let archived =
        writer.patch("/v1/event-types/invoice.voided", json!({"archived": true, "description": "Old"})).await;
    assert_eq!((archived.status, &archived.body["archived"]), (200, &json!(true)), "{:?}", archived.body);
    assert!(!names(&app.get("/v1/event-types").await.body).contains(&"invoice.voided"));
    assert!(names(&app.get("/v1/event-types?include_archived=true").await.body).contains(&"invoice.voided"));
    app.send_events(json!({"type": "invoice.voided", "payload": {"n": 3}})).await;
    receiver.wait_for(3, WAIT).await;
    let schema_gone = writer.patch("/v1/event-types/invoice.paid", json!({"schema": null})).await;
    assert_eq!(schema_gone.body["schema"], Value::Null, "{:?}", schema_gone.body);
    app.send_events(json!({"type": "invoice.paid", "payload": {"currency": "EUR"}})).await;
    receiver.wait_for(4, WAIT).await;
    assert_eq!(writer.patch("/v1/event-types/run.failed", json!({"archived": true})).await.status, 409);
    assert_eq!(writer.patch("/v1/event-types/invoice.nope", json!({"archived": true})).await.status, 404);

    // Deleted only once no subscription needs it: `invoice.*` would match nothing else.
    assert_eq!(writer.delete("/v1/event-types/invoice.voided").await.status, 204, "invoice.paid keeps invoice.* valid");
    let needed = writer.delete("/v1/event-types/invoice.paid").await;
    assert_eq!((needed.status, needed.code()), (409, "conflict"), "{:?}", needed.body);
    assert_eq!(
        app.patch(&format!("/v1/webhooks/{id}"), json!({"events": ["run.failed"], "event_filters": {}})).await.status,
        200
    );
    assert_eq!(writer.delete("/v1/event-types/invoice.paid").await.status, 204);
    assert_eq!(writer.delete("/v1/event-types/invoice.paid").await.status, 404);
    assert_eq!(writer.delete("/v1/event-types/run.failed").await.status, 409);
    assert_eq!(app.post("/v1/events", json!({"type": "invoice.paid", "payload": {}})).await.status, 400);
}

/// With `--unknown-event-types accept`, an event of a type nobody declared is accepted and
/// reaches the endpoints subscribed to everything; a declared type's schema still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_types_are_accepted_when_the_deployment_says_so() {
    let service = Service::start_with(|config| config.settings.accept_unknown_event_types = true).await;
    let api = &service.api;
    let everything = Receiver::start().await;
    api.create_endpoint(&everything.url("/"), &["*"]).await;
    api.send_events(json!({"type": "anything.happened", "payload": {"n": 1}})).await;
    assert_eq!(everything.wait_for(1, WAIT).await[0].json()["n"], 1);
    let typed = json!({"name": "order.placed", "schema": {"required": ["id"]}});
    assert_eq!(api.post("/v1/event-types", typed).await.status, 201);
    assert_eq!(api.post("/v1/events", json!({"type": "order.placed", "payload": {}})).await.status, 400);
    assert_eq!(api.post("/v1/events", json!({"type": "not a name", "payload": {}})).await.status, 400);
}

/// Seed 000's way to subscribe to everything, past the default catalog: with the tenant's
/// own types, one endpoint takes 500 explicit types, and an event of the last one reaches it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_takes_500_types_one_by_one() {
    let service = Service::start().await;
    let api = &service.api;
    let defaults = names(&api.get("/v1/event-types").await.body).len();
    for i in 0..500 - defaults {
        let reply = api.post("/v1/event-types", json!({"name": format!("custom.type_{i:03}")})).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
    let all: Vec<String> = names(&api.get("/v1/event-types").await.body).into_iter().map(str::to_owned).collect();
    assert_eq!(all.len(), 500);
    let receiver = Receiver::start().await;
    let created = api.create_endpoint_with(json!({"url": receiver.url("/"), "events": all})).await;
    assert_eq!(created["events"].as_array().unwrap().len(), 500);
    let last = all.last().unwrap();
    api.send_events(json!({"type": last, "payload": {"last": true}})).await;
    assert_eq!(receiver.wait_for(1, WAIT).await[0].json()["last"], true);
    // A tenant's own types are limited to 500.
    for i in 500 - defaults..500 {
        assert_eq!(api.post("/v1/event-types", json!({"name": format!("custom.type_{i:03}")})).await.status, 201);
    }
    let over = api.post("/v1/event-types", json!({"name": "custom.one_too_many"})).await;
    assert_eq!((over.status, over.code()), (409, "limit_reached"), "{:?}", over.body);
}
