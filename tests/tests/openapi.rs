//! The OpenAPI document: served at `/openapi.json` by the real binary, OpenAPI 3.1, with
//! every canonical route the router has (read from the router's source, so a route added
//! without its annotation fails here); and schemathesis, run against the running service,
//! finds nothing: no 5xx, every answer of a documented status and shape, bad input refused.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use webhooks_tests::Binary;
use webhooks_tests::local_aws::python;

/// (method, path) of each `.route(...)` in the canonical router of `functions/api/src/lib.rs`.
fn canonical_routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/api/src/lib.rs"))
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
    let run = Command::new(&st)
        .args(["run", &format!("{}/openapi.json", service.api.base)])
        .args(["--header", &format!("Authorization: Bearer {}", service.api.key)])
        // Every check but one: a schema cannot say which URLs the deployment's policy allows
        // or which event types a tenant has, so schema-valid requests may rightly be refused.
        .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--max-examples", "50", "--seed", "20261203", "--workers", "2", "--no-color"])
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
