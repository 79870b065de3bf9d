//! The HTTP API: endpoints, validation, scopes, tenants, API keys and ingestion limits.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Receiver, Service};

const WAIT: Duration = Duration::from_secs(10);

fn assert_error(reply: &webhooks_tests::Reply, status: u16, code: &str) {
    assert_eq!((reply.status, reply.code()), (status, code), "{:?}", reply.body);
    assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(reply.body["error"]["details"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_lifecycle() {
    let service = Service::start().await;
    let api = &service.api;
    let receiver = Receiver::start().await;

    let created = api
        .create_endpoint_with(json!({
            "url": receiver.url("/a"),
            "events": ["playground.created", "playground.status.changed"],
            "description": "CI/CD notifications",
        }))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ep_"));
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 64);
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert!(created["standard_webhooks_secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["failure_count"], 0);

    let custom = api
        .create_endpoint_with(json!({"url": receiver.url("/b"), "events": ["run.failed"], "secret": "whsec_your_secret_key", "active": false}))
        .await;
    assert_eq!(custom["secret"], "whsec_your_secret_key");
    assert_eq!(custom["enabled"], false, "the seeds' `active` is accepted");

    let shown = api.get(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["description"], "CI/CD notifications");
    assert!(shown.body.get("secret").is_none(), "no secret outside create and the secret route");
    let secret_route = api.get(&format!("/v1/webhooks/{id}/secret")).await;
    assert_eq!(secret_route.body["secret"], secret);

    let patched = api.patch(&format!("/v1/webhooks/{id}"), json!({"description": "renamed"})).await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.body["description"], "renamed");
    assert_eq!(patched.body["events"], created["events"], "absent fields stay");
    let cleared = api.patch(&format!("/v1/webhooks/{id}"), json!({"description": null, "events": ["*"]})).await;
    assert_eq!(cleared.body["description"], json!(null));
    assert_eq!(cleared.body["events"], json!(["*"]));

    // The subscription change takes effect: a run.failed event now reaches endpoint a.
    api.send_events(json!({"type": "run.failed", "payload": {}})).await;
    receiver.wait_for(1, WAIT).await;
    api.wait_until(&format!("/v1/webhooks/{id}/deliveries"), WAIT, |b| b["data"].as_array().unwrap().len() == 1).await;
    // The disabled endpoint b got nothing but a trace of what it missed.
    let b_history = format!("/v1/webhooks/{}/deliveries", custom["id"].as_str().unwrap());
    let missed = api.wait_until(&b_history, WAIT, |b| b["data"].as_array().unwrap().len() == 1).await;
    assert_eq!(missed["data"][0]["last_error"], "not sent: endpoint disabled");

    let deleted = api.delete(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(deleted.status, 204);
    assert_error(&api.get(&format!("/v1/webhooks/{id}")).await, 404, "not_found");
    assert_error(&api.delete(&format!("/v1/webhooks/{id}")).await, 404, "not_found");
    let log = api.get("/v1/deliveries").await;
    let left: Vec<&Value> =
        log.body["data"].as_array().unwrap().iter().filter(|d| d["endpoint_id"] == id.as_str()).collect();
    assert!(left.is_empty(), "its delivery history went with it: {left:?}");
    assert_eq!(log.body["data"].as_array().unwrap().len(), 1, "b's trace stays");
    assert_error(&api.get("/v1/webhooks/ep_not-an-id").await, 404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_page_with_opaque_cursors_and_hide_secrets() {
    let service = Service::start().await;
    let api = &service.api;
    let mut made = Vec::new();
    for i in 0..5 {
        let created = api.create_endpoint(&format!("https://example.com/{i}"), &["run.failed"]).await;
        made.push(created["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/v1/webhooks?limit=2".to_owned();
    loop {
        let page = api.get(&path).await;
        assert_eq!(page.status, 200);
        for endpoint in page.body["data"].as_array().unwrap() {
            assert!(endpoint.get("secret").is_none());
            seen.push(endpoint["id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                assert!(!cursor.contains("ep_"), "cursors are opaque");
                path = format!("/v1/webhooks?limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    assert_eq!(seen, made, "oldest first, each once");
    assert_error(&api.get("/v1/webhooks?limit=0").await, 400, "validation_error");
    assert_error(&api.get("/v1/webhooks?limit=101").await, 400, "validation_error");
    assert_error(&api.get("/v1/webhooks?cursor=bogus").await, 400, "validation_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_validation_errors() {
    let service =
        Service::start_with(|config| config.settings.url_policy = webhooks::security::url_guard::UrlPolicy::default())
            .await;
    let api = &service.api;
    let good = || json!({"url": "https://example.com/hook", "events": ["run.failed"]});
    let with = |field: &str, value: Value| {
        let mut body = good();
        body[field] = value;
        body
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("http url", with("url", json!("http://example.com/")), "url"),
        ("localhost without the switch", with("url", json!("http://localhost:8080/")), "url"),
        ("loopback", with("url", json!("https://127.0.0.1/")), "url"),
        ("private", with("url", json!("https://10.0.0.8/")), "url"),
        ("metadata", with("url", json!("https://169.254.169.254/latest")), "url"),
        ("unspecified", with("url", json!("https://0.0.0.0/")), "url"),
        ("ipv6 loopback", with("url", json!("https://[::1]/")), "url"),
        ("loopback as one number", with("url", json!("https://2130706433/")), "url"),
        ("loopback in hex", with("url", json!("https://0x7f.0.0.1/")), "url"),
        ("loopback in octal", with("url", json!("https://0177.0.0.1/")), "url"),
        ("loopback shortened", with("url", json!("https://127.1/")), "url"),
        ("metadata as one number", with("url", json!("https://2852039166/")), "url"),
        ("loopback in IPv4-compatible IPv6", with("url", json!("https://[::127.0.0.1]/")), "url"),
        ("private in NAT64", with("url", json!("https://[64:ff9b::a00:1]/")), "url"),
        ("metadata in 6to4", with("url", json!("https://[2002:a9fe:a9fe::]/")), "url"),
        ("not a url", with("url", json!("example.com")), "url"),
        ("url too long", with("url", json!(format!("https://example.com/{}", "a".repeat(2048)))), "url"),
        ("no events", with("events", json!([])), "events"),
        ("unknown event", with("events", json!(["nope.created"])), "events[0]"),
        ("too many events", with("events", json!(vec!["run.failed"; 501])), "events"),
        ("wildcard matching nothing", with("events", json!(["nope.*"])), "events[0]"),
        ("description too long", with("description", json!("d".repeat(256))), "description"),
        ("secret too short", with("secret", json!("short")), "secret"),
        ("secret too long", with("secret", json!("s".repeat(256))), "secret"),
        ("signature header", with("headers", json!({"X-Webhook-Signature": "x"})), "headers.X-Webhook-Signature"),
        ("identity header", with("headers", json!({"webhook-id": "x"})), "headers.webhook-id"),
        ("content type header", with("headers", json!({"Content-Type": "text/plain"})), "headers.Content-Type"),
        (
            "filter on an unsubscribed type",
            with("event_filters", json!({"run.completed": [1]})),
            "event_filters.run.completed",
        ),
    ];
    for (name, body, field) in cases {
        let reply = api.post("/v1/webhooks", body).await;
        assert_error(&reply, 400, "validation_error");
        let fields: Vec<&str> =
            reply.body["error"]["details"].as_array().unwrap().iter().filter_map(|d| d["field"].as_str()).collect();
        assert!(fields.contains(&field), "{name}: {fields:?}");
    }
    // Edges that pass.
    let edge = with("description", json!("d".repeat(255)));
    assert_eq!(api.post("/v1/webhooks", edge).await.status, 201);
    assert_eq!(api.post("/v1/webhooks", with("secret", json!("s".repeat(16)))).await.status, 201);
    assert_eq!(
        api.post("/v1/webhooks", with("url", json!(format!("https://e.com/{}", "a".repeat(2048 - 14))))).await.status,
        201
    );

    // Shape errors.
    assert_error(&api.post("/v1/webhooks", json!({"url": "https://e.com"})).await, 400, "validation_error");
    assert_error(&api.post("/v1/webhooks", with("colour", json!("red"))).await, 400, "validation_error");
    assert_error(&api.raw("POST", "/v1/webhooks", b"{not json".to_vec()).await, 400, "validation_error");
    assert_error(&api.raw("POST", "/v1/webhooks", vec![b' '; 300 * 1024]).await, 413, "payload_too_large");

    // PATCH validates the result too, and changes nothing when it fails.
    let created = api.create_endpoint("https://example.com/p", &["run.failed"]).await;
    let id = created["id"].as_str().unwrap();
    assert_error(
        &api.patch(&format!("/v1/webhooks/{id}"), json!({"url": "http://example.com"})).await,
        400,
        "validation_error",
    );
    assert_error(&api.patch(&format!("/v1/webhooks/{id}"), json!({"events": []})).await, 400, "validation_error");
    assert_eq!(api.get(&format!("/v1/webhooks/{id}")).await.body["url"], "https://example.com/p");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_ingestion_limits() {
    let service = Service::start().await;
    let api = &service.api;
    let event = |t: &str| json!({"type": t, "payload": {"k": "v"}});

    let ids = api.send_events(event("run.failed")).await;
    assert_eq!(ids.len(), 1);
    assert!(ids[0].starts_with("evt_"));
    let batch: Vec<Value> = (0..100).map(|_| event("run.failed")).collect();
    assert_eq!(api.send_events(json!({"events": batch.clone()})).await.len(), 100);
    assert_eq!(api.send_events(Value::Array(batch[..3].to_vec())).await.len(), 3, "a bare array is a batch");

    let too_many: Vec<Value> = (0..101).map(|_| event("run.failed")).collect();
    assert_error(&api.post("/v1/events", json!({"events": too_many})).await, 400, "validation_error");
    assert_error(&api.post("/v1/events", json!({"events": []})).await, 400, "validation_error");

    let unknown = api.post("/v1/events", json!({"events": [event("run.failed"), event("nope.happened")]})).await;
    assert_error(&unknown, 400, "validation_error");
    assert_eq!(unknown.body["error"]["details"][0]["field"], "events[1].type");

    let at_limit = "x".repeat(256 * 1024 - 10);
    assert_eq!(api.post("/v1/events", json!({"type": "run.failed", "payload": {"b": at_limit}})).await.status, 202);
    let over = "x".repeat(256 * 1024);
    assert_error(
        &api.post("/v1/events", json!({"type": "run.failed", "payload": {"b": over}})).await,
        413,
        "payload_too_large",
    );

    assert_error(&api.post("/v1/events", json!({"type": "run.failed", "payload": [1]})).await, 400, "validation_error");
    let missing = api.post("/v1/events", json!({"type": "run.failed"})).await;
    assert_error(&missing, 400, "validation_error");
    assert_eq!(missing.body["error"]["details"][0]["field"], "payload");
    let mixed = api.post("/v1/events", json!({"events": [event("run.failed")], "type": "run.failed"})).await;
    assert_error(&mixed, 400, "validation_error");
    assert_error(
        &api.post("/v1/events", json!({"id": "has space", "type": "run.failed", "payload": {}})).await,
        400,
        "validation_error",
    );
    assert_error(
        &api.post("/v1/events", json!({"id": "x".repeat(129), "type": "run.failed", "payload": {}})).await,
        400,
        "validation_error",
    );
    assert_error(
        &api.post("/v1/events", json!({"type": "run.failed", "entity_id": 1.5, "payload": {}})).await,
        400,
        "validation_error",
    );
    assert_error(&api.post("/v1/events", json!("text")).await, 400, "validation_error");
    assert_error(&api.get("/v1/deliveries?status=lost").await, 400, "validation_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_lists_every_seed_event_type() {
    let service = Service::start().await;
    let reply = service.api.get("/v1/event-types").await;
    assert_eq!(reply.status, 200);
    let types: Vec<&str> = reply.body["data"].as_array().unwrap().iter().map(|t| t["type"].as_str().unwrap()).collect();
    for expected in [
        "playground.drift.detected",
        "run.completed",
        "wallet.charged",
        "workflow.step.started",
        "policy.updated",
        "webhook.test",
    ] {
        assert!(types.contains(&expected), "{expected}");
    }
    let described = reply.body["data"].as_array().unwrap().iter().find(|t| t["type"] == "approval.expired").unwrap();
    assert_eq!(described["description"], "An approval request expired without a decision");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_required_and_scopes_enforced() {
    let service = Service::start().await;
    let api = &service.api;
    let endpoint = api.create_endpoint("https://example.com/h", &["run.failed"]).await;
    let id = endpoint["id"].as_str().unwrap();

    assert_error(&api.with_key("").get("/v1/webhooks").await, 401, "unauthorized");
    assert_error(&api.with_key("whk_wrong").get("/v1/webhooks").await, 401, "unauthorized");
    let no_header = reqwest::get(format!("{}/v1/webhooks", api.base)).await.unwrap();
    assert_eq!(no_header.status(), 401);

    let read = api.with_key(&api.mint_key("default", &["webhooks:read"]).await);
    let write = api.with_key(&api.mint_key("default", &["webhooks:write"]).await);
    let delete = api.with_key(&api.mint_key("default", &["webhooks:delete"]).await);
    let events = api.with_key(&api.mint_key("default", &["events:write"]).await);
    let new_endpoint = json!({"url": "https://example.com/x", "events": ["run.failed"]});
    let event = json!({"type": "run.failed", "payload": {}});

    // Any key may ask what it is; the answer never holds the key.
    let me = read.get("/v1/me").await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!((&me.body["tenant"], &me.body["scopes"]), (&json!("default"), &json!(["webhooks:read"])));
    assert!(me.body["id"].as_str().unwrap().starts_with("key_") && me.body.get("key").is_none(), "{:?}", me.body);
    assert!(!me.body.to_string().contains(&read.key), "{:?}", me.body);
    assert_eq!(api.get("/v1/me").await.body["scopes"], json!(["admin"]));
    assert_error(&api.with_key("whk_wrong").get("/v1/me").await, 401, "unauthorized");
    assert_error(&read.get("/v1/me?x=1").await, 400, "validation_error");

    assert_eq!(read.get("/v1/webhooks").await.status, 200);
    assert_eq!(read.get(&format!("/v1/webhooks/{id}/deliveries")).await.status, 200);
    assert_eq!(read.get("/v1/event-types").await.status, 200);
    assert_error(&read.post("/v1/webhooks", new_endpoint.clone()).await, 403, "forbidden");
    assert_error(&read.get(&format!("/v1/webhooks/{id}/secret")).await, 403, "forbidden");
    assert_error(&read.delete(&format!("/v1/webhooks/{id}")).await, 403, "forbidden");
    assert_error(&read.post("/v1/events", event.clone()).await, 403, "forbidden");

    assert_eq!(write.post("/v1/webhooks", new_endpoint.clone()).await.status, 201);
    assert_eq!(write.patch(&format!("/v1/webhooks/{id}"), json!({"description": "w"})).await.status, 200);
    assert_eq!(write.post(&format!("/v1/webhooks/{id}/test"), json!({})).await.status, 200);
    assert_error(&write.get("/v1/webhooks").await, 403, "forbidden");
    assert_error(&write.delete(&format!("/v1/webhooks/{id}")).await, 403, "forbidden");
    assert_error(&write.post("/v1/events", event.clone()).await, 403, "forbidden");

    assert_error(&delete.post("/v1/webhooks", new_endpoint).await, 403, "forbidden");
    assert_error(&events.get("/v1/webhooks").await, 403, "forbidden");
    assert_eq!(events.post("/v1/events", event).await.status, 202);

    for key in [&read, &write, &delete, &events] {
        assert_error(&key.get("/v1/api-keys").await, 403, "forbidden");
        assert_error(&key.post("/v1/api-keys", json!({"name": "x", "scopes": ["admin"]})).await, 403, "forbidden");
    }
    assert_eq!(delete.delete(&format!("/v1/webhooks/{id}")).await.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_cannot_see_each_other() {
    let service = Service::start().await;
    let acme = &service.api;
    let globex = acme.with_key(&acme.mint_key("globex", &["admin"]).await);
    let acme_receiver = Receiver::start().await;
    let globex_receiver = Receiver::start().await;
    let acme_endpoint = acme.create_endpoint(&acme_receiver.url("/"), &["run.failed"]).await;
    let id = acme_endpoint["id"].as_str().unwrap();
    globex.create_endpoint(&globex_receiver.url("/"), &["run.failed"]).await;

    for reply in [
        globex.get(&format!("/v1/webhooks/{id}")).await,
        globex.patch(&format!("/v1/webhooks/{id}"), json!({"description": "mine"})).await,
        globex.get(&format!("/v1/webhooks/{id}/secret")).await,
        globex.post(&format!("/v1/webhooks/{id}/secret/rotate"), json!({})).await,
        globex.post(&format!("/v1/webhooks/{id}/test"), json!({})).await,
        globex.get(&format!("/v1/webhooks/{id}/deliveries")).await,
        globex.delete(&format!("/v1/webhooks/{id}")).await,
    ] {
        assert_error(&reply, 404, "not_found");
    }
    let listed = globex.get("/v1/webhooks").await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);

    acme.send_events(json!({"id": "same-id", "type": "run.failed", "payload": {"from": "acme"}})).await;
    globex.send_events(json!({"id": "same-id", "type": "run.failed", "payload": {"from": "globex"}})).await;
    let acme_got = acme_receiver.wait_for(1, WAIT).await;
    let globex_got = globex_receiver.wait_for(1, WAIT).await;
    acme_receiver.assert_stays_at(1, Duration::from_millis(500)).await;
    assert_eq!(acme_got[0].json()["from"], "acme");
    assert_eq!(globex_got[0].json()["from"], "globex", "event ids are scoped per tenant");

    let acme_log = acme.wait_until("/v1/deliveries", WAIT, |b| b["data"].as_array().unwrap().len() == 1).await;
    let delivery = acme_log["data"][0]["id"].as_str().unwrap();
    assert_error(&globex.get(&format!("/v1/webhooks/{id}/deliveries/{delivery}")).await, 404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_keys_shown_once_and_stored_hashed() {
    let service = Service::start().await;
    let api = &service.api;
    let created = api
        .post("/v1/api-keys", json!({"name": "ci", "tenant": "acme", "scopes": ["events:write", "webhooks:read"]}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let key = created.body["key"].as_str().unwrap().to_owned();
    let key_id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["tenant"], "acme");

    let listed = api.get("/v1/api-keys?tenant=acme").await;
    let entry = &listed.body["data"][0];
    assert_eq!(entry["id"], key_id.as_str());
    assert!(entry.get("key").is_none(), "a key is shown once");
    assert!(key.starts_with(entry["prefix"].as_str().unwrap()));
    assert_eq!(api.with_key(&key).get("/v1/webhooks").await.status, 200);

    // The database holds its hash, not the key.
    let database = std::fs::read(service.data.join("webhooks.sqlite3")).unwrap();
    let wal = std::fs::read(service.data.join("webhooks.sqlite3-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        assert!(!bytes.windows(key.len()).any(|w| w == key.as_bytes()), "the key is stored in clear");
    }

    assert_error(&api.post("/v1/api-keys", json!({"name": "", "scopes": ["admin"]})).await, 400, "validation_error");
    assert_error(&api.post("/v1/api-keys", json!({"name": "x", "scopes": []})).await, 400, "validation_error");
    assert_error(&api.post("/v1/api-keys", json!({"name": "x", "scopes": ["root"]})).await, 400, "validation_error");
    assert_error(
        &api.post("/v1/api-keys", json!({"name": "x", "tenant": "a b", "scopes": ["admin"]})).await,
        400,
        "validation_error",
    );

    // A key cannot revoke itself: an admin's last key would lock the tenant out.
    let admin_key = api.mint_key("acme", &["admin"]).await;
    let admin = api.with_key(&admin_key);
    let listed = admin.get("/v1/api-keys?tenant=acme").await;
    let keys = listed.body["data"].as_array().unwrap();
    let own = keys.iter().find(|k| k["scopes"][0] == "admin" && admin_key.starts_with(k["prefix"].as_str().unwrap()));
    let admin_id = own.unwrap()["id"].as_str().unwrap().to_owned();
    assert_error(&admin.delete(&format!("/v1/api-keys/{admin_id}")).await, 409, "conflict");
    assert_eq!(admin.get("/v1/webhooks").await.status, 200, "still valid");
    assert_eq!(admin.delete(&format!("/v1/api-keys/{key_id}")).await.status, 204, "another key, revoked");
    assert_error(&api.with_key(&key).get("/v1/webhooks").await, 401, "unauthorized");
    assert_error(&api.delete(&format!("/v1/api-keys/{key_id}")).await, 404, "not_found");
}

/// No unknown query parameter passes silently (`offset` among them: lists page by cursor),
/// and every error, routing ones included, has the JSON error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_query_parameters_and_routing_errors_have_the_error_shape() {
    let service = Service::start().await;
    let api = &service.api;
    let created = api.create_endpoint("http://127.0.0.1:9/hook", &["run.failed"]).await;
    let id = created["id"].as_str().unwrap();
    for path in [
        "/v1/webhooks?offset=10".to_owned(),
        "/v1/webhooks?limit=5&sort=desc".to_owned(),
        format!("/v1/webhooks/{id}/deliveries?offset=20"),
        "/v1/deliveries?page=2".to_owned(),
        "/v1/api-keys?verbose=1".to_owned(),
        format!("/v1/webhooks/{id}?expand=secret"),
        format!("/v1/webhooks/{id}/secret?x"),
        "/v1/event-types?family=run".to_owned(),
    ] {
        let reply = api.get(&path).await;
        assert_error(&reply, 400, "validation_error");
        assert_eq!(reply.body["error"]["details"][0]["field"], "query", "{path}");
    }
    let reply = api.get("/v1/webhooks?offset=10").await;
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("offset"), "{:?}", reply.body);
    let reply = api.post("/v1/events?async=true", json!({"type": "run.failed", "payload": {}})).await;
    assert_error(&reply, 400, "validation_error");
    assert_eq!(api.get("/v1/webhooks?limit=5").await.status, 200);
    assert_eq!(api.get(&format!("/v1/webhooks/{id}/deliveries?status=failed&limit=5")).await.status, 200);

    assert_error(&api.call("PUT", &format!("/v1/webhooks/{id}"), Some(json!({}))).await, 405, "method_not_allowed");
    assert_error(&api.call("DELETE", "/v1/events", None).await, 405, "method_not_allowed");
    assert_error(&api.get("/v1/webhooks/%FF%FE").await, 400, "validation_error");
    assert_error(&api.get("/v1/webhooks/%FF/deliveries").await, 400, "validation_error");
    assert_error(&api.get("/v1/nothing-here").await, 404, "not_found");
}

/// JSON nested deeper than 128 levels is refused with a clear 400, in an event's payload
/// and in any other body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_nesting_is_capped() {
    let service = Service::start().await;
    let api = &service.api;
    let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let event = |depth: usize| format!(r#"{{"type": "run.failed", "payload": {{"deep": {}}}}}"#, nested(depth));
    assert_eq!(api.raw("POST", "/v1/events", event(100).into_bytes()).await.status, 202);
    let reply = api.raw("POST", "/v1/events", event(200).into_bytes()).await;
    assert_error(&reply, 400, "validation_error");
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("recursion limit"), "{:?}", reply.body);
    let endpoint =
        format!(r#"{{"url": "https://example.com/", "events": ["run.failed"], "headers": {}}}"#, nested(5000));
    assert_error(&api.raw("POST", "/v1/webhooks", endpoint.into_bytes()).await, 400, "validation_error");
}

/// Custom header values are credentials: a `webhooks:read` key sees the names only; the scope
/// that may read the secret sees the values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_header_values_need_the_scope_that_shows_the_secret() {
    let service = Service::start().await;
    let token = "tok_live_do_not_leak_42";
    let created = service
        .api
        .create_endpoint_with(json!({"url": "https://example.com/hook", "events": ["run.failed"],
            "headers": {"X-Api-Token": token}}))
        .await;
    assert_eq!(created["headers"]["X-Api-Token"], token, "the creator sees what it set");
    let id = created["id"].as_str().unwrap();
    let reader = service.api.with_key(&service.api.mint_key("default", &["webhooks:read"]).await);
    for path in [format!("/v1/webhooks/{id}"), "/v1/webhooks".to_owned()] {
        let reply = reader.get(&path).await;
        assert_eq!(reply.status, 200);
        assert!(!reply.body.to_string().contains(token), "{path}: {:?}", reply.body);
        assert!(reply.body.to_string().contains(r#""X-Api-Token":"[redacted]""#), "{path}: {:?}", reply.body);
    }
    let writer = service.api.with_key(&service.api.mint_key("default", &["webhooks:read", "webhooks:write"]).await);
    assert_eq!(writer.get(&format!("/v1/webhooks/{id}")).await.body["headers"]["X-Api-Token"], token);
    assert_eq!(writer.get("/v1/webhooks").await.body["data"][0]["headers"]["X-Api-Token"], token);
}

/// A tenant's endpoints are limited (100 by default, `--max-endpoints`): past it, a clear 409
/// and nothing stored; other tenants are not affected, and deleting one makes room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_s_endpoints_are_limited() {
    let service = Service::start_with(|config| config.settings.max_endpoints = 3).await;
    let api = &service.api;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(api.create_endpoint("https://example.com/hook", &["run.failed"]).await["id"].clone());
    }
    let refused = api.post("/v1/webhooks", json!({"url": "https://example.com/4", "events": ["run.failed"]})).await;
    assert_error(&refused, 409, "limit_reached");
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("limit of 3 endpoints"), "{:?}", refused.body);
    assert_eq!(api.get("/v1/webhooks").await.body["data"].as_array().unwrap().len(), 3, "nothing stored");

    let other = api.with_key(&api.mint_key("other", &["webhooks:write", "webhooks:read"]).await);
    other.create_endpoint("https://example.com/hook", &["run.failed"]).await;

    assert_eq!(api.delete(&format!("/v1/webhooks/{}", ids[0].as_str().unwrap())).await.status, 204);
    api.create_endpoint("https://example.com/hook", &["run.failed"]).await;
}
