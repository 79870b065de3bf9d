//! The OpenAPI document: served at `/openapi.json` by the real binary, OpenAPI 3.1, with
//! every canonical route the router has (read from the router's source, so a route added
//! without its annotation fails here); and schemathesis, run against the running service,
//! finds nothing: no 5xx, every answer of a documented status and shape, bad input refused.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use webhooks_tests::Binary;
use webhooks_tests::local_aws::python;

/// (method, path) of each `.route(...)` in the canonical router of `shared/api/src/lib.rs`.
fn canonical_routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/api/src/lib.rs"))
        .expect("the router's source");
    let body = source.split("fn canonical<").nth(1).expect("the canonical router");
    let mut routes = BTreeSet::new();
    for call in body.split(".route(").skip(1) {
        // The call's text up to its closing parenthesis.
        let mut depth = 1;
        let end = call
            .char_indices()
            .find_map(|(at, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                (depth == 0).then_some(at)
            })
            .expect("a closed .route(");
        let call = &call[..end];
        let path = call.split('"').nth(1).expect("a route's path").to_owned();
        for method in ["get", "post", "patch", "delete"] {
            let named = |prefix: &str| call.contains(&format!("{prefix}{method}("));
            if named("(") || named(" ") || named(".") || named("routing::") {
                routes.insert((method.to_owned(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_covers_every_canonical_route() {
    let dir = tempfile::tempdir().unwrap();
    let service = Binary::serve(dir.path(), &[], None);
    let reply = reqwest::get(format!("{}/openapi.json", service.api.base)).await.unwrap();
    assert_eq!(reply.status(), 200, "served without a key");
    assert_eq!(reply.headers()["content-type"], "application/json");
    let document: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");

    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented.insert((method.clone(), path.clone()));
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{method} {path}: its errors are documented");
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path}");
            }
            if !["/healthz", "/openapi.json"].contains(&path.as_str()) {
                assert!(responses.contains_key("401") && responses.contains_key("400"), "{method} {path}");
            }
        }
    }
    let routes = canonical_routes();
    assert!(routes.len() >= 28, "the router's routes were read: {routes:?}");
    assert_eq!(documented, routes, "the document and the router name the same routes");

    // An optional body, as the document allows, may be left out or be `null`.
    let endpoint = service.api.create_endpoint("https://example.com/hook", &["run.failed"]).await;
    let rotate = format!("/v1/webhooks/{}/secret/rotate", endpoint["id"].as_str().unwrap());
    for body in ["", "null", "{}"] {
        let reply = reqwest::Client::new()
            .post(format!("{}{rotate}", service.api.base))
            .bearer_auth(&service.api.key)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "body {body:?}");
    }

    // Each error answer has the one error shape.
    let error = &document["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error"]), "{error}");
    assert!(document["components"]["responses"]["ValidationError"].is_object());
}

/// How many operations the served document has.
async fn document_operations(base: &str) -> usize {
    let document: serde_json::Value = reqwest::get(format!("{base}/openapi.json")).await.unwrap().json().await.unwrap();
    document["paths"].as_object().unwrap().values().map(|item| item.as_object().unwrap().len()).sum()
}

#[tokio::test]
async fn schemathesis_finds_nothing_against_the_running_service() {
    let dir = tempfile::tempdir().unwrap();
    let service = Binary::serve(dir.path(), &[], None);
    let tests = Path::new(env!("CARGO_MANIFEST_DIR"));
    let st = Path::new(&python()).with_file_name("st");
    let seed = std::env::var("WEBHOOKS_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261203".to_owned());
    let run = Command::new(&st)
        .args(["run", &format!("{}/openapi.json", service.api.base)])
        .args(["--header", &format!("Authorization: Bearer {}", service.api.key)])
        // Every check, `positive_data_acceptance` among them: what the document calls valid is
        // accepted. The hooks supply what no schema knows (the catalog, cursors, keys).
        .args(["--checks", "all"])
        // Another seed explores other requests: WEBHOOKS_SCHEMATHESIS_SEED=N.
        .args(["--max-examples", "50", "--seed", &seed, "--workers", "2", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "schemathesis_hooks")
        .env("PYTHONPATH", tests)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{} (run scripts/test to install schemathesis): {e}", st.display()));
    let printed = String::from_utf8_lossy(&run.stdout);
    let summary = printed.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
    println!("schemathesis:\n{summary}");
    assert!(run.status.success(), "schemathesis found failures:\n{printed}\n{}", String::from_utf8_lossy(&run.stderr));
    // Every operation but the document's own route, which schemathesis leaves out.
    let operations = document_operations(&service.api.base).await - 1;
    assert!(printed.contains(&format!("Tested: {operations}\n")), "all {operations} operations tested:\n{printed}");
}

/// A client generator (openapi-typescript, installed by scripts/test) reads the document
/// without a warning, and its types carry the limits (`Format: uri`, the URL's description).
#[tokio::test]
async fn a_client_generator_reads_the_document_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let service = Binary::serve(dir.path(), &[], None);
    let document = reqwest::get(format!("{}/openapi.json", service.api.base)).await.unwrap().text().await.unwrap();
    let (input, output) = (dir.path().join("openapi.json"), dir.path().join("api.ts"));
    std::fs::write(&input, document).unwrap();
    let generator = std::env::var("WEBHOOKS_TEST_OPENAPI_TS")
        .unwrap_or_else(|_| format!("{}/../.node/node_modules/.bin/openapi-typescript", env!("CARGO_MANIFEST_DIR")));
    let run = Command::new(&generator)
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap_or_else(|e| panic!("{generator} (run scripts/test to install openapi-typescript): {e}"));
    let printed = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "openapi-typescript failed:\n{printed}");
    let lowered = printed.to_lowercase();
    assert!(!lowered.contains("warn") && !lowered.contains("error") && !printed.contains('⚠'), "{printed}");
    let types = std::fs::read_to_string(&output).unwrap();
    assert!(types.contains("\"/v1/webhooks\": {"), "every route is typed");
    assert!(types.contains("Format: uri") && types.contains("written as every parser reads it"), "{types}");
}

/// What the document calls valid, the server takes, where JSON Schema reads a request more
/// widely than serde would: an integer written `5.0`, a time with any RFC 3339 offset, and
/// lengths counted in characters (not bytes). And one step past each limit is refused.
#[tokio::test]
async fn the_server_takes_what_the_document_calls_valid() {
    let dir = tempfile::tempdir().unwrap();
    let service = Binary::serve(dir.path(), &[], None);
    let api = &service.api;
    let wide = |n: usize| "é".repeat(n);
    let created = api
        .post(
            "/v1/webhooks",
            serde_json::json!({
                "url": "https://example.com/hook",
                "events": ["run.failed", "run.*"],
                "rate_limit": 5.0,
                "secret": wide(255),
                "event_filters": {"run.failed": [42.0, wide(128)], "run.*": {wide(200): ["x"]}},
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["rate_limit"], 5);
    assert_eq!(created.body["event_filters"]["run.failed"], serde_json::json!([42, wide(128)]));
    let id = created.body["id"].as_str().unwrap();
    let patched = api.patch(&format!("/v1/webhooks/{id}"), serde_json::json!({"rate_limit": 7.0})).await;
    assert_eq!(patched.body["rate_limit"], 7, "{:?}", patched.body);
    let rotated =
        api.post(&format!("/v1/webhooks/{id}/secret/rotate"), serde_json::json!({"overlap_seconds": 60.0})).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);

    let sent =
        api.post("/v1/events", serde_json::json!({"type": "run.failed", "entity_id": 42.0, "payload": {}})).await;
    assert_eq!(sent.status, 202, "{:?}", sent.body);
    let event = sent.body["ids"][0].as_str().unwrap();
    // Recorded by the dispatcher, a moment later.
    let wait = std::time::Duration::from_secs(10);
    api.wait_until(&format!("/v1/events/{event}"), wait, |body| body["entity_id"] == 42).await;
    for (since, listed) in
        [("2000-01-01t00:00:00.5%2B14:00", 1), ("2999-01-01T00:00:00-23:59", 0), ("1969-07-20T20:17:00Z", 1)]
    {
        let page = api.get(&format!("/v1/events?since={since}")).await;
        assert_eq!(page.status, 200, "{since}: {:?}", page.body);
        assert_eq!(page.body["data"].as_array().unwrap().len(), listed, "{since}");
    }
    let recover = api
        .post(
            &format!("/v1/webhooks/{id}/recover"),
            serde_json::json!({"since": "2000-12-10T00:14:25-04:16", "until": "2000-12-10T05:00:00+00:00"}),
        )
        .await;
    assert_eq!(recover.status, 202, "{:?}", recover.body);
    assert_eq!(recover.body["since"], "2000-12-10T04:30:25.000Z");

    // One past each limit.
    for (path, body) in [
        ("/v1/webhooks".to_owned(), serde_json::json!({"url": "https://e.com", "events": ["*"], "rate_limit": 5.5})),
        ("/v1/webhooks".to_owned(), serde_json::json!({"url": "https://e.com", "events": ["*"], "secret": wide(256)})),
        (
            "/v1/webhooks".to_owned(),
            serde_json::json!({"url": "https://e.com", "events": ["*"], "event_filters": {"*": [wide(129)]}}),
        ),
        (format!("/v1/webhooks/{id}/secret/rotate"), serde_json::json!({"overlap_seconds": 604_801})),
        ("/v1/events".to_owned(), serde_json::json!({"type": "run.failed", "entity_id": 1.5, "payload": {}})),
    ] {
        let reply = api.post(&path, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (400, "validation_error"), "{body}: {:?}", reply.body);
    }
}
