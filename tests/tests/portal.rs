//! Customer portal sessions through the API, on the embedded service and on DynamoDB and
//! SQS: minted by an admin or a `portal:write` key, used like a key with the scopes of its
//! mode and only on its endpoints, refused once expired or revoked.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks::time::Timestamp;
use webhooks_tests::{Api, Binary, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_sessions_hold_their_limits() {
    let service = Service::start().await;
    portal_sessions(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_portal_sessions_hold_their_limits() {
    let (_data, service) = Binary::serve_on_aws("portal", &[]);
    portal_sessions(&service.api).await;
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn mint(api: &Api, body: Value) -> Value {
    let reply = api.post("/v1/portal-sessions", body).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply.body
}

fn ids(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(id).collect()
}

async fn portal_sessions(admin: &Api) {
    let scopes = ["webhooks:read", "webhooks:write", "webhooks:delete", "portal:write"];
    let acme = admin.with_key(&admin.mint_key("acme", &scopes).await);
    let globex = admin.with_key(&admin.mint_key("globex", &scopes).await);
    let a =
        acme.create_endpoint_with(json!({"url": "https://a.example.com/hook", "events": ["*"], "uid": "shop-a"})).await;
    let b = acme.create_endpoint("https://b.example.com/hook", &["*"]).await;
    let g = globex.create_endpoint("https://g.example.com/hook", &["*"]).await;
    let (a, b, g) = (id(&a), id(&b), id(&g));

    // A tenant's key mints for its own tenant, limited to one endpoint named by its uid.
    let before = Timestamp::now();
    let limited = mint(&acme, json!({"endpoints": ["shop-a"]})).await;
    let token = limited["token"].as_str().unwrap();
    assert!(token.starts_with("whp_") && token.len() == 52, "{token}");
    let url = limited["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with(&format!("/console#portal={token}")), "{url}");
    assert_eq!(limited["tenant"], "acme");
    assert_eq!(limited["endpoints"], json!([a]));
    assert_eq!(limited["read_only"], false);
    let expires = Timestamp::parse_rfc3339(limited["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires.since(before) >= Duration::from_secs(3600) && expires.since(before) < Duration::from_secs(3660));
    let refused = acme.post("/v1/portal-sessions", json!({"tenant": "globex"})).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"), "only for its own tenant");

    // The limited session: its endpoint, changed; nothing past it.
    let portal = admin.with_key(token);
    let me = portal.get("/v1/me").await.body;
    assert_eq!((me["id"].clone(), me["tenant"].clone()), (limited["id"].clone(), json!("acme")));
    assert_eq!(me["scopes"], json!(["webhooks:read", "webhooks:write", "webhooks:delete"]));
    assert_eq!(me["portal"]["endpoints"], json!([a]));
    assert_eq!(ids(&portal.get("/v1/webhooks").await.body), vec![a.clone()]);
    assert_eq!(portal.get("/v1/webhooks/shop-a").await.status, 200);
    assert_eq!(portal.get(&format!("/v1/webhooks/{a}/secret")).await.status, 200);
    let changed = portal.patch(&format!("/v1/webhooks/{a}"), json!({"description": "from the portal"})).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    for path in [format!("/v1/webhooks/{b}"), format!("/v1/webhooks/{g}"), format!("/v1/webhooks/{b}/deliveries")] {
        assert_eq!(portal.get(&path).await.status, 404, "{path}: not its endpoint");
    }
    assert_eq!(portal.delete(&format!("/v1/webhooks/{b}")).await.status, 404);
    let outside = [
        ("POST", "/v1/webhooks", json!({"url": "https://c.example.com/hook", "events": ["*"]})),
        ("GET", "/v1/deliveries", Value::Null),
        ("GET", "/v1/events", Value::Null),
        ("POST", "/v1/events", json!({"type": "run.failed", "payload": {}})),
        ("GET", "/v1/api-keys", Value::Null),
        ("POST", "/v1/api-keys", json!({"name": "x", "scopes": ["admin"]})),
        ("POST", "/v1/portal-sessions", json!({})),
        ("GET", "/v1/dead-letters/deliveries", Value::Null),
        ("POST", "/v1/event-types", json!({"name": "x.y"})),
        ("GET", "/api/webhook_endpoints", Value::Null),
        ("POST", "/mcp", json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
    ];
    for (method, path, body) in outside {
        let reply = portal.call(method, path, (!body.is_null()).then_some(body)).await;
        assert_eq!((reply.status, reply.code()), (403, "forbidden"), "{method} {path}: {:?}", reply.body);
    }

    // An admin mints for any tenant; a read-only session of globex sees and changes nothing.
    let reading = mint(admin, json!({"tenant": "globex", "read_only": true, "expires_in": 600})).await;
    let reader = admin.with_key(reading["token"].as_str().unwrap());
    assert_eq!(reader.get("/v1/me").await.body["scopes"], json!(["webhooks:read"]));
    assert_eq!(ids(&reader.get("/v1/webhooks").await.body), vec![g.clone()]);
    assert_eq!(reader.get("/v1/events").await.status, 200, "every endpoint: the tenant's logs too");
    for (method, path) in [
        ("PATCH", format!("/v1/webhooks/{g}")),
        ("DELETE", format!("/v1/webhooks/{g}")),
        ("POST", format!("/v1/webhooks/{g}/test")),
        ("GET", format!("/v1/webhooks/{g}/secret")),
        ("POST", "/v1/webhooks".to_owned()),
    ] {
        let body = match (method, path.as_str()) {
            ("POST", "/v1/webhooks") => Some(json!({"url": "https://c.example.com/hook", "events": ["*"]})),
            ("GET" | "DELETE", _) => None,
            _ => Some(json!({})),
        };
        let reply = reader.call(method, &path, body).await;
        assert_eq!(reply.status, 403, "{method} {path}: {:?}", reply.body);
    }
    assert_eq!(reader.get(&format!("/v1/webhooks/{a}")).await.status, 404, "another tenant's");

    // Revoked: refused from the next request on; not by another tenant.
    let elsewhere = globex.delete(&format!("/v1/portal-sessions/{}", id(&limited))).await;
    assert_eq!(elsewhere.status, 404, "{:?}", elsewhere.body);
    assert_eq!(portal.get("/v1/me").await.status, 200);
    assert_eq!(acme.delete(&format!("/v1/portal-sessions/{}", id(&limited))).await.status, 204);
    assert_eq!(portal.get("/v1/me").await.status, 401, "revoked at once");
    assert_eq!(acme.delete(&format!("/v1/portal-sessions/{}", id(&limited))).await.status, 404);
    assert_eq!(
        admin.delete(&format!("/v1/portal-sessions/{}", id(&reading))).await.status,
        204,
        "an admin, any tenant's"
    );
    assert_eq!(reader.get("/v1/me").await.status, 401);

    // Every session of a tenant at once.
    let (one, two) = (mint(&acme, json!({})).await, mint(&acme, json!({"read_only": true})).await);
    let kept = mint(&globex, json!({})).await;
    assert_eq!(acme.delete("/v1/portal-sessions?tenant=globex").await.status, 403);
    let revoked = acme.delete("/v1/portal-sessions").await;
    assert_eq!((revoked.status, revoked.body.clone()), (200, json!({"revoked": 2})));
    for gone in [&one, &two] {
        assert_eq!(admin.with_key(gone["token"].as_str().unwrap()).get("/v1/me").await.status, 401);
    }
    assert_eq!(admin.with_key(kept["token"].as_str().unwrap()).get("/v1/me").await.status, 200);
    let invalid = admin.delete("/v1/portal-sessions?tenant=0.5").await;
    assert_eq!((invalid.status, invalid.code()), (400, "validation_error"), "{:?}", invalid.body);
    let by_admin = admin.delete("/v1/portal-sessions?tenant=globex").await;
    assert_eq!(by_admin.body, json!({"revoked": 1}));

    // Expired: refused.
    let brief = mint(&acme, json!({"expires_in": 1})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(admin.with_key(brief["token"].as_str().unwrap()).get("/v1/me").await.status, 401);

    // What it cannot mint.
    for (body, field) in [
        (json!({"expires_in": 0}), "expires_in"),
        (json!({"expires_in": 604801}), "expires_in"),
        (json!({"endpoints": []}), "endpoints"),
        (json!({"endpoints": [b.clone(), "ep_01ARZ3NDEKTSV4RRFFQ69G5FAV"]}), "endpoints[1]"),
        (json!({"endpoints": [g.clone()]}), "endpoints[0]"),
        (json!({"tenant": "no#such"}), "tenant"),
        (json!({"lifetime": 60}), "lifetime"),
    ] {
        // An admin, who may name any tenant.
        let minting = if field == "tenant" { admin } else { &acme };
        let reply = minting.post("/v1/portal-sessions", body.clone()).await;
        assert_eq!((reply.status, reply.code()), (400, "validation_error"), "{body}: {:?}", reply.body);
        assert!(reply.body.to_string().contains(field), "{body}: {:?}", reply.body);
    }
    let reader_key = admin.with_key(&admin.mint_key("acme", &["webhooks:read"]).await);
    assert_eq!(reader_key.post("/v1/portal-sessions", json!({})).await.status, 403, "portal:write needed");
}
