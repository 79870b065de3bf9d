//! Asymmetric signing (Standard Webhooks `v1a`, ed25519): an endpoint created with
//! `"signing": "ed25519"` shows its public key (`whpk_...`) and never its private key; its
//! deliveries carry a `v1a` signature that pyca/cryptography verifies with that public key
//! (`tests/v1a_verify.py`), and no shared-secret header. A rotation can move an HMAC endpoint
//! to ed25519 with an overlap in which both sign. On the embedded service and `serve --aws`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{Api, Binary, Received, Receiver, Service};

const WAIT: Duration = Duration::from_secs(20);

/// Whether `tests/v1a_verify.py` verifies `got`'s signature with `public_key` (over `body`).
fn verifies(public_key: &str, got: &Received, body: &[u8]) -> bool {
    let script = format!("{}/v1a_verify.py", env!("CARGO_MANIFEST_DIR"));
    let python = webhooks_tests::local_aws::python();
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python} (run scripts/test to set up the venv): {e}"));
    let input = json!({
        "public_key": public_key,
        "body": hex::encode(body),
        "headers": {
            "webhook-id": got.header("webhook-id"),
            "webhook-timestamp": got.header("webhook-timestamp"),
            "webhook-signature": got.header("webhook-signature"),
        },
    });
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim() == "verified"
}

fn assert_no_private_key(body: &Value) {
    assert!(!body.to_string().contains("whsk_"), "the private key is never shown: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_deliveries_verify_with_the_public_key() {
    let service = Service::start().await;
    ed25519(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_ed25519_deliveries_verify_with_the_public_key() {
    let (_data, service) = Binary::serve_on_aws("ed25519", &[]);
    ed25519(&service.api).await;
}

async fn ed25519(api: &Api) {
    let receiver = Receiver::start().await;
    let created = api
        .post("/v1/webhooks", json!({"url": receiver.url("/"), "events": ["run.failed"], "signing": "ed25519"}))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_no_private_key(&created.body);
    assert_eq!(created.body["signing"], "ed25519");
    assert_eq!(created.body["secret"], Value::Null);
    let public_key = created.body["public_key"].as_str().unwrap().to_owned();
    assert!(public_key.starts_with("whpk_"), "{public_key}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    for path in [format!("/v1/webhooks/{id}/secret"), format!("/v1/webhooks/{id}")] {
        let shown = api.get(&path).await;
        assert_no_private_key(&shown.body);
    }
    assert_eq!(api.get(&format!("/v1/webhooks/{id}/secret")).await.body["public_key"], public_key.as_str());

    api.send_events(json!({"type": "run.failed", "payload": {"run_id": "r_1", "note": "ünïcode"}})).await;
    let got = receiver.wait_for(1, WAIT).await.remove(0);
    assert!(got.header("webhook-signature").starts_with("v1a,"), "{}", got.header("webhook-signature"));
    assert_eq!(got.header("x-webhook-signature"), "", "no shared secret, no HMAC header");
    assert!(verifies(&public_key, &got, &got.body), "the public key verifies it");
    let mut tampered = got.body.to_vec();
    tampered.push(b' ');
    assert!(!verifies(&public_key, &got, &tampered), "and only the body signed");
    let other = api
        .post("/v1/webhooks", json!({"url": receiver.url("/x"), "events": ["run.failed"], "signing": "ed25519"}))
        .await;
    assert!(!verifies(other.body["public_key"].as_str().unwrap(), &got, &got.body), "and only with its key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_moves_an_hmac_endpoint_to_ed25519_with_both_signing_meanwhile() {
    let service = Service::start().await;
    let api = &service.api;
    let receiver = Receiver::start().await;
    let created = api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    assert_eq!(created["signing"], "hmac_sha256");
    let id = created["id"].as_str().unwrap();
    let rotated = api.post(&format!("/v1/webhooks/{id}/secret/rotate"), json!({"signing": "ed25519"})).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    assert_no_private_key(&rotated.body);
    let public_key = rotated.body["public_key"].as_str().unwrap().to_owned();
    assert!(rotated.body["previous_secret_expires_at"].is_string());

    api.send_events(json!({"type": "run.failed", "payload": {"n": 1}})).await;
    let got = receiver.wait_for(1, WAIT).await.remove(0);
    let signatures: Vec<&str> = got.header("webhook-signature").split(' ').collect();
    assert!(signatures[0].starts_with("v1,") && signatures[1].starts_with("v1a,"), "{signatures:?}");
    assert!(got.header("x-webhook-signature").starts_with("sha256="), "the old secret's header while it signs");
    assert!(verifies(&public_key, &got, &got.body));
    assert_eq!(api.get(&format!("/v1/webhooks/{id}")).await.body["signing"], "ed25519");

    // Asked wrong: a clear 400, nothing changed.
    let invalid = [
        (format!("/v1/webhooks/{id}/secret/rotate"), json!({"secret": "whsk_AAAA"})),
        (format!("/v1/webhooks/{id}/secret/rotate"), json!({"secret": "0123456789abcdef0123", "signing": "ed25519"})),
        ("/v1/webhooks".to_owned(), json!({"url": receiver.url("/"), "events": ["run.failed"], "signing": "rsa"})),
    ];
    for (path, body) in invalid {
        let reply = api.post(&path, body.clone()).await;
        assert_eq!((reply.status, &reply.body["error"]["code"]), (400, &json!("validation_error")), "{body}");
    }
    assert_eq!(api.get(&format!("/v1/webhooks/{id}/secret")).await.body["public_key"], public_key.as_str());
}
