//! `--history failures` (`WEBHOOKS_HISTORY`): a delivery that succeeds at its first attempt
//! is counted and logged but not kept; one that needed a retry, or failed, is kept with all
//! its attempts. On the embedded backend end to end, and in the console; `aws_cost.rs`
//! counts what it saves on DynamoDB.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks::deliveries::history::History;
use webhooks_tests::{ADMIN_KEY, Receiver, Service, fast_policy, local_aws::python};

fn statuses(list: &Value) -> Vec<(String, String, u64)> {
    let mut found: Vec<(String, String, u64)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let endpoint = d["endpoint_id"].as_str().unwrap().to_owned();
            (endpoint, d["status"].as_str().unwrap().to_owned(), d["attempts"].as_u64().unwrap())
        })
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_keeping_failures_lists_only_what_needed_more_than_one_attempt() {
    let service = Service::start_with(|config| {
        config.settings.policy = fast_policy(1);
        config.settings.history = History::Failures;
    })
    .await;
    let (good, flaky, bad) = (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    flaky.script(&[500]);
    bad.always(500);
    let api = &service.api;
    assert_eq!(api.get("/v1/me").await.body["history"], "failures");
    let id = async |receiver: &Receiver| {
        api.create_endpoint(&receiver.url("/hook"), &["run.failed"]).await["id"].as_str().unwrap().to_owned()
    };
    let (good_id, flaky_id, bad_id) = (id(&good).await, id(&flaky).await, id(&bad).await);

    let event = api.send_events(json!({"type": "run.failed", "payload": {"run": 1}})).await.remove(0);
    good.wait_for(1, Duration::from_secs(10)).await;
    flaky.wait_for(2, Duration::from_secs(10)).await;
    bad.wait_for(2, Duration::from_secs(10)).await;

    // The retried and the failed delivery, each with its two attempts; not the one delivered at once.
    let wait = Duration::from_secs(30);
    let listed = api
        .wait_until("/v1/deliveries", wait, |list| {
            statuses(list).iter().filter(|(_, status, _)| status != "pending").count() == 2
        })
        .await;
    let mut expected = vec![(flaky_id.clone(), "delivered".to_owned(), 2), (bad_id.clone(), "failed".to_owned(), 2)];
    expected.sort();
    assert_eq!(statuses(&listed), expected);
    let flaky_delivery = listed["data"].as_array().unwrap().iter().find(|d| d["endpoint_id"] == flaky_id.as_str());
    let flaky_delivery = flaky_delivery.unwrap()["id"].as_str().unwrap();
    let detail = api.get(&format!("/v1/webhooks/{flaky_id}/deliveries/{flaky_delivery}")).await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(api.get(&format!("/v1/webhooks/{good_id}/deliveries")).await.body["data"], json!([]));
    let shown = api.get(&format!("/v1/events/{event}")).await;
    assert_eq!(shown.body["deliveries"].as_array().unwrap().len(), 2, "{:?}", shown.body);

    // Counted all the same: the endpoint's stats have it.
    let stats = api.wait_until(&format!("/v1/webhooks/{good_id}/stats"), wait, |s| s["totals"]["delivered"] == 1).await;
    assert_eq!(stats["totals"]["failed"], 0);
    // Sent once, as `all` would.
    good.assert_stays_at(1, Duration::from_millis(500)).await;

    // The console says what the history leaves out.
    let shots = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/screenshots/console");
    let script = format!("{}/history_browser.py", env!("CARGO_MANIFEST_DIR"));
    let args = [&service.api.base, ADMIN_KEY, good_id.as_str(), event.as_str(), shots].map(str::to_owned);
    let output =
        tokio::task::spawn_blocking(move || std::process::Command::new(python()).arg(script).args(args).output())
            .await
            .unwrap()
            .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && stdout.contains("every step passed"), "{stdout}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_every_delivery_is_kept() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let api = &service.api;
    assert_eq!(api.get("/v1/me").await.body["history"], "all");
    api.create_endpoint(&receiver.url("/hook"), &["run.failed"]).await;
    api.send_events(json!({"type": "run.failed", "payload": {"run": 1}})).await;
    let listed = api
        .wait_until("/v1/deliveries", Duration::from_secs(30), |list| {
            list["data"].as_array().is_some_and(|d| d.len() == 1 && d[0]["status"] == "delivered")
        })
        .await;
    assert_eq!(listed["data"][0]["attempts"], 1);
}
