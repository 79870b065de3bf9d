//! `webhooks serve --aws --provision`, the real binary, on DynamoDB and SQS on the local
//! emulator: an event goes through the API, the dispatcher and the sender to a real receiver;
//! a receiver that always fails gets six attempts, then the delivery is failed in the history
//! (not parked in the DLQ, which is for what the pipeline could not handle), and the endpoint
//! disables itself at its tenth failure.

use std::time::Duration;

use serde_json::json;
use webhooks_tests::local_aws::{local_aws, unique_name};
use webhooks_tests::{ADMIN_KEY, Binary, Receiver, data_dir, seed_signature};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_flow_through_dynamodb_and_sqs() {
    let data = data_dir();
    let prefix = unique_name("serve");
    let service = Binary::serve_with_env(
        data.path(),
        &["--aws", "--provision", "--prefix", &prefix],
        Some(ADMIN_KEY),
        &local_aws().env(),
    );
    let api = &service.api;

    // The happy path: signed, delivered once, recorded.
    let healthy = Receiver::start().await;
    let endpoint = api.create_endpoint(&healthy.url("/ok"), &["run.failed"]).await;
    let secret = endpoint["secret"].as_str().unwrap();
    let id = endpoint["id"].as_str().unwrap();
    api.send_events(json!({"id": "evt-aws-1", "type": "run.failed", "payload": {"run": 1}})).await;
    let got = healthy.wait_for(1, WAIT).await;
    assert_eq!(&got[0].body[..], br#"{"run":1}"#);
    assert_eq!(got[0].header("x-webhook-signature"), seed_signature(secret, &got[0].body));
    assert_eq!(got[0].header("x-webhook-event"), "run.failed");
    let delivered = api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=delivered"), WAIT, |b| {
            b["data"].as_array().unwrap().len() == 1
        })
        .await;
    assert_eq!(delivered["data"][0]["id"].as_str().unwrap(), got[0].header("x-webhook-delivery"));
    assert_eq!(delivered["data"][0]["attempts"], 1);
    healthy.assert_stays_at(1, Duration::from_secs(2)).await;

    // Always failing: six attempts one second apart, then failed; nothing in the DLQ.
    let failing = Receiver::start().await;
    failing.always(503);
    let endpoint = api.create_endpoint(&failing.url("/down"), &["run.failed"]).await;
    let id = endpoint["id"].as_str().unwrap();
    api.send_events(json!({"id": "evt-aws-2", "type": "run.failed", "payload": {"run": 2}})).await;
    let failed = api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=failed"), WAIT, |b| {
            b["data"].as_array().unwrap().len() == 1
        })
        .await;
    let delivery_id = failed["data"][0]["id"].as_str().unwrap();
    let detail = api.get(&format!("/v1/webhooks/{id}/deliveries/{delivery_id}")).await;
    assert_eq!(detail.body["attempts"], 6);
    assert_eq!(detail.body["attempt_log"].as_array().unwrap().len(), 6);
    assert!(detail.body["attempt_log"].as_array().unwrap().iter().all(|a| a["http_status"] == 503));
    assert_eq!(failing.received().len(), 6);
    let sqs = aws_sdk_sqs::Client::new(&local_aws().sdk_config().await);
    let dlq = sqs.get_queue_url().queue_name(format!("{prefix}-deliveries-dlq")).send().await.unwrap();
    let dlq_url = dlq.queue_url.unwrap();
    // moto moves a message to the DLQ at the first receive past maxReceiveCount: wait for one.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let received = sqs.receive_message().queue_url(&dlq_url).wait_time_seconds(1).send().await.unwrap();
    assert!(received.messages.unwrap_or_default().is_empty(), "a failed delivery is not parked in the DLQ");
    assert_eq!(api.get(&format!("/v1/webhooks/{id}")).await.body["failure_count"], 6);

    // Four more failures make ten in a row: the endpoint disables itself.
    api.send_events(json!({"id": "evt-aws-3", "type": "run.failed", "payload": {"run": 3}})).await;
    let disabled = api.wait_until(&format!("/v1/webhooks/{id}"), WAIT, |b| b["enabled"] == false).await;
    assert_eq!(disabled["failure_count"], 10);
    assert!(disabled["disabled_reason"].as_str().unwrap().contains("10 consecutive"));
    failing.assert_stays_at(10, Duration::from_secs(3)).await;
    let (status, _) = service.terminate();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_provision_missing_resources_are_named() {
    let data = data_dir();
    let output = std::process::Command::new(webhooks_tests::binary_path())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .args(["--aws", "--prefix", &unique_name("absent")])
        .envs(local_aws().env())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--provision"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_start_on_aws_mints_the_only_admin_key() {
    let data = data_dir();
    let prefix = unique_name("keys");
    let first =
        Binary::serve_with_env(data.path(), &["--aws", "--provision", "--prefix", &prefix], None, &local_aws().env());
    assert!(first.banner.iter().any(|line| line.starts_with("admin API key (shown once")), "{:?}", first.banner);
    let key = first.api.key.clone();
    assert_eq!(first.api.get("/v1/api-keys").await.status, 200);
    let (status, _) = first.terminate();
    assert!(status.success());

    // Started again on the same resources (found, not provisioned): nothing new is minted.
    let again = Binary::serve_with_env(data.path(), &["--aws", "--prefix", &prefix], None, &local_aws().env());
    assert!(!again.banner.iter().any(|line| line.contains("admin API key")), "{:?}", again.banner);
    let keys = again.api.with_key(&key).get("/v1/api-keys").await;
    assert_eq!(keys.status, 200);
    assert_eq!(keys.body["data"].as_array().unwrap().len(), 1);
}
