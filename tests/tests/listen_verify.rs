//! `webhooks listen` and `webhooks verify`, the real binary against real deliveries of the
//! real service: a genuine delivery verifies, a tampered, stale or incomplete one does not,
//! with its reason; the receiver prints each delivery and passes it on.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use webhooks_tests::{Received, Receiver, Service, binary_path};

const WAIT: Duration = Duration::from_secs(20);

/// Runs `webhooks verify` with `args` and `body` on stdin: exit code, stdout, stderr.
fn verify(args: &[String], body: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(binary_path())
        .arg("verify")
        .args(args)
        .env_remove("WEBHOOK_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_owned();
    (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

/// `--header "name: value"` for each of the delivery's signature headers but `leave_out`.
fn header_args(got: &Received, leave_out: &str) -> Vec<String> {
    ["webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-event"]
        .into_iter()
        .filter(|name| *name != leave_out)
        .flat_map(|name| ["--header".to_owned(), format!("{name}: {}", got.header(name))])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_accepts_a_genuine_delivery_and_says_why_it_refuses_another() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let created = service.api.create_endpoint(&receiver.url("/hook"), &["run.failed"]).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    service.api.send_events(json!({"type": "run.failed", "payload": {"run": 1}})).await;
    let got = receiver.wait_for(1, WAIT).await.remove(0);
    let with = |secret: &str, leave_out: &str| {
        [vec!["--secret".to_owned(), secret.to_owned()], header_args(&got, leave_out)].concat()
    };

    assert_eq!(verify(&with(&secret, ""), &got.body), (0, "valid".into(), String::new()));
    let shown = service.api.get(&format!("/v1/webhooks/{}/secret", created["id"].as_str().unwrap())).await.body;
    let whsec = shown["standard_webhooks_secret"].as_str().unwrap();
    assert_eq!(verify(&with(whsec, ""), &got.body).0, 0, "the whsec_ form too");

    let mut tampered = got.body.to_vec();
    tampered.extend_from_slice(b" ");
    let (code, _, said) = verify(&with(&secret, ""), &tampered);
    assert_eq!((code, said.as_str()), (1, "INVALID: wrong signature: no signature matches"));
    let (code, _, said) = verify(&with(&"f".repeat(64), ""), &got.body);
    assert_eq!((code, said.starts_with("INVALID: wrong signature")), (1, true), "{said}");
    let (code, _, said) = verify(&with(&secret, "webhook-id"), &got.body);
    assert_eq!((code, said.as_str()), (1, "INVALID: missing header webhook-id"));
    let mut stale = with(&secret, "webhook-timestamp");
    let old = got.header("webhook-timestamp").parse::<i64>().unwrap() - 600;
    stale.extend(["--header".to_owned(), format!("webhook-timestamp: {old}")]);
    let (code, _, said) = verify(&stale, &got.body);
    assert_eq!(code, 1);
    assert!(said.starts_with("INVALID: timestamp outside the tolerance: 6"), "{said}");

    // Usage errors: exit status 2.
    assert_eq!(verify(&header_args(&got, ""), &got.body).0, 2, "neither a secret nor a key");
    let (code, _, said) = verify(&["--secret".into(), secret.clone(), "--header".into(), "no colon".into()], b"{}");
    assert_eq!(code, 2, "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_checks_an_ed25519_delivery_with_the_public_key() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let created = service
        .api
        .create_endpoint_with(json!({"url": receiver.url("/hook"), "events": ["run.failed"], "signing": "ed25519"}))
        .await;
    let shown = service.api.get(&format!("/v1/webhooks/{}/secret", created["id"].as_str().unwrap())).await.body;
    let public_key = shown["public_key"].as_str().unwrap().to_owned();
    service.api.send_events(json!({"type": "run.failed", "payload": {"run": 2}})).await;
    let got = receiver.wait_for(1, WAIT).await.remove(0);
    let args = [vec!["--public-key".to_owned(), public_key], header_args(&got, "")].concat();
    assert_eq!(verify(&args, &got.body).0, 0);
    assert_eq!(verify(&args, b"{}").0, 1);
}

/// `webhooks listen` with `args`: the child, and its stdout lines, after the first ("listening
/// on ...", whose address is answered).
fn listen(args: &[&str]) -> (std::process::Child, String, mpsc::Receiver<String>) {
    let mut child = Command::new(binary_path())
        .args(["listen", "--port", "0"])
        .args(args)
        .env_remove("WEBHOOK_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (send, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines.recv_timeout(WAIT).expect("listen prints its address");
    let address = first.strip_prefix("listening on ").unwrap().split(' ').next().unwrap().to_owned();
    (child, address, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_prints_each_delivery_checks_it_and_passes_it_on() {
    let service = Service::start().await;
    let app = Receiver::start().await;
    let api = &service.api;
    // Registered first, to learn its secret; pointed at the listener once it runs.
    let created = api.create_endpoint("http://127.0.0.1:1/none", &["run.failed"]).await;
    let (id, secret) = (created["id"].as_str().unwrap(), created["secret"].as_str().unwrap());
    let (mut good, address, lines) = listen(&["--secret", secret, "--forward-to", &app.url("/app")]);
    assert_eq!(api.patch(&format!("/v1/webhooks/{id}"), json!({"url": format!("{address}/hooks")})).await.status, 200);
    api.send_events(json!({"type": "run.failed", "payload": {"run": 3}})).await;
    let line = lines.recv_timeout(WAIT).expect("a line per delivery");
    let forwarded = app.wait_for(1, WAIT).await.remove(0);
    let delivery_id = forwarded.header("webhook-id");
    assert!(
        line.contains(&format!(
            "POST /hooks run.failed {delivery_id} {} bytes, signature: valid, forwarded: 200",
            forwarded.body.len()
        )),
        "{line}"
    );
    assert_eq!(
        lines.recv_timeout(WAIT).unwrap(),
        format!("  {}", String::from_utf8_lossy(&forwarded.body)),
        "then the body"
    );
    assert_eq!(forwarded.json(), json!({"run": 3}), "the same body passed on");
    assert!(forwarded.header("webhook-signature").starts_with("v1,"), "with its headers");
    good.kill().unwrap();

    // With the wrong secret it says so; --status sets the answer (a 500 here: retried).
    let (mut wrong, address, lines) = listen(&["--secret", &"0".repeat(64), "--status", "500"]);
    api.patch(&format!("/v1/webhooks/{id}"), json!({"url": format!("{address}/hooks")})).await;
    api.send_events(json!({"type": "run.failed", "payload": {"run": 4}})).await;
    let line = lines.recv_timeout(WAIT).expect("a line per delivery");
    assert!(line.contains("signature: INVALID (wrong signature: no signature matches)"), "{line}");
    let failing = format!("/v1/webhooks/{id}/deliveries?limit=1");
    let answered = api.wait_until(&failing, WAIT, |body| body["data"][0]["http_status"] == 500).await;
    assert_eq!(answered["data"][0]["http_status"], 500);
    wrong.kill().unwrap();
}
