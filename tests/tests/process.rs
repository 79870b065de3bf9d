//! The real `webhooks serve` binary: first start, restarts, SIGTERM and SIGKILL.

use std::time::Duration;

use serde_json::json;
use webhooks_tests::{Binary, Receiver, Service, admin_key_command, data_dir};

const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_prints_an_admin_key_once_and_data_survives_a_restart() {
    let dir = data_dir();
    let receiver = Receiver::start().await;
    let first = Binary::serve(dir.path(), &[], None);
    let key = first.api.key.clone();
    assert!(key.starts_with("whk_"), "first start prints a key: {:?}", first.banner);
    let endpoint = first.api.create_endpoint(&receiver.url("/"), &["run.completed"]).await;
    let id = endpoint["id"].as_str().unwrap().to_owned();
    first.api.send_events(json!({"type": "run.completed", "payload": {"n": 1}})).await;
    receiver.wait_for(1, WAIT).await;
    first
        .api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries"), WAIT, |b| b["data"][0]["status"] == "delivered")
        .await;
    let (exit, printed) = first.terminate();
    assert!(exit.success(), "SIGTERM exits cleanly: {exit:?}");
    assert!(printed.iter().any(|line| line.contains("shutting down")), "{printed:?}");

    let second = Binary::serve(dir.path(), &[], None);
    assert!(!second.banner.iter().any(|line| line.contains("whk_")), "the key is shown once: {:?}", second.banner);
    let api = second.api.with_key(&key);
    let shown = api.get(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(shown.status, 200, "the endpoint and the key survived: {:?}", shown.body);
    let history = api.get(&format!("/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(history.body["data"][0]["status"], "delivered");
    api.send_events(json!({"type": "run.completed", "payload": {"n": 2}})).await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].json()["n"], 2);
    receiver.assert_stays_at(2, Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_in_flight_at_sigkill_is_delivered_after_restart() {
    let dir = data_dir();
    let receiver = Receiver::start().await;
    receiver.delay(Duration::from_secs(30));
    let key = "whk_process_test_key_00000000001";
    let first = Binary::serve(dir.path(), &[], Some(key));
    let endpoint = first.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let id = endpoint["id"].as_str().unwrap().to_owned();
    first.api.send_events(json!({"type": "run.failed", "payload": {"k": 9}})).await;
    let in_flight = receiver.wait_for(1, WAIT).await.remove(0);
    first.kill();

    receiver.delay(Duration::ZERO);
    let second = Binary::serve(dir.path(), &[], Some(key));
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].header("x-webhook-delivery"), in_flight.header("x-webhook-delivery"));
    assert_eq!(got[1].body, in_flight.body);
    second
        .api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries"), WAIT, |b| b["data"][0]["status"] == "delivered")
        .await;
    receiver.assert_stays_at(2, Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_delivery_in_flight_before_exiting() {
    let dir = data_dir();
    let receiver = Receiver::start().await;
    receiver.delay(Duration::from_millis(1500));
    let key = "whk_process_test_key_00000000002";
    let first = Binary::serve(dir.path(), &[], Some(key));
    let endpoint = first.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let id = endpoint["id"].as_str().unwrap().to_owned();
    first.api.send_events(json!({"type": "run.failed", "payload": {}})).await;
    receiver.wait_for(1, WAIT).await;
    let (exit, _) = first.terminate();
    assert!(exit.success(), "{exit:?}");

    // The attempt finished and was recorded before exit: nothing is sent again.
    receiver.delay(Duration::ZERO);
    let second = Binary::serve(dir.path(), &[], Some(key));
    let history = second.api.get(&format!("/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(history.body["data"][0]["status"], "delivered", "{:?}", history.body);
    assert_eq!(history.body["data"][0]["attempts"], 1);
    receiver.assert_stays_at(1, Duration::from_millis(1500)).await;
}

#[test]
fn a_second_serve_on_the_same_data_directory_is_refused() {
    let dir = data_dir();
    let _first = Binary::serve(dir.path(), &[], Some("whk_process_test_key_00000000003"));
    let output = std::process::Command::new(webhooks_tests::binary_path())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("another `webhooks serve`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disable_threshold_is_a_flag() {
    let dir = data_dir();
    let receiver = Receiver::start().await;
    receiver.always(500);
    let serve = Binary::serve(dir.path(), &["--disable-after", "2"], Some("whk_process_test_key_00000000004"));
    let endpoint = serve.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let id = endpoint["id"].as_str().unwrap();
    serve
        .api
        .send_events(json!({"events": [{"type": "run.failed", "payload": {}}, {"type": "run.failed", "payload": {}}]}))
        .await;
    let disabled = serve.api.wait_until(&format!("/v1/webhooks/{id}"), WAIT, |b| b["enabled"] == false).await;
    assert_eq!(disabled["disabled_reason"], "2 consecutive failed deliveries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_key_mints_a_working_key_but_not_under_a_running_serve() {
    let dir = data_dir();
    let data = dir.path().to_str().unwrap();
    // A directory without a database is a mistyped path unless --create says otherwise.
    let typo = admin_key_command(&["--data", data], &[]).unwrap_err();
    assert!(typo.contains("holds no webhooks database") && typo.contains("--create"), "{typo}");
    assert!(!dir.path().join("webhooks.sqlite3").exists(), "nothing was created");
    let key = admin_key_command(&["--data", data, "--create"], &[]).unwrap();
    assert!(key.starts_with("whk_"), "{key}");

    // With a key in the store, serve mints none, and the minted one is an admin's.
    let service = Binary::serve(dir.path(), &[], None);
    assert!(!service.banner.iter().any(|line| line.contains("whk_")), "{:?}", service.banner);
    let api = service.api.with_key(&key);
    let keys = api.get("/v1/api-keys").await;
    assert_eq!(keys.status, 200, "{:?}", keys.body);
    assert_eq!(keys.body["data"][0]["name"], "admin (webhooks admin-key)");
    assert!(!keys.body.to_string().contains(&key), "the key itself is never shown again");

    let refused = admin_key_command(&["--data", data], &[]).unwrap_err();
    assert!(refused.contains("another `webhooks serve` is using"), "{refused}");
    drop(service);
    let second = admin_key_command(&["--data", data], &[]).unwrap();
    assert_ne!(second, key, "an existing database takes another key without --create");
}

/// `--admin-key` names the one admin key it manages: a new one replaces the earlier one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_admin_key_flag_revokes_the_earlier_one() {
    let dir = data_dir();
    let (first, second) = ("whk_first_admin_key_0123456789abcdef", "whk_second_admin_key_0123456789abcdef");
    let mut service = Service::start_in(dir.path(), |config| config.admin_key = Some(first.into())).await;
    let minted = service.api.with_key(first).mint_key("default", &["webhooks:read"]).await;
    service.stop().await;

    let mut service = Service::start_in(dir.path(), |config| config.admin_key = Some(second.into())).await;
    assert_eq!(service.api.with_key(first).get("/v1/webhooks").await.status, 401, "the earlier key stopped working");
    assert_eq!(service.api.with_key(second).get("/v1/webhooks").await.status, 200);
    assert_eq!(service.api.with_key(&minted).get("/v1/webhooks").await.status, 200, "other keys stay");
    let keys = service.api.with_key(second).get("/v1/api-keys").await;
    let prefixes: Vec<&str> =
        keys.body["data"].as_array().unwrap().iter().map(|k| k["prefix"].as_str().unwrap()).collect();
    assert_eq!(prefixes.len(), 2, "{:?}", keys.body);
    assert!(prefixes.iter().all(|p| !second.starts_with(p) || p.len() < second.len()), "a prefix, never the key");
    service.stop().await;

    // Restarting with the same flag changes nothing.
    let service = Service::start_in(dir.path(), |config| config.admin_key = Some(second.into())).await;
    assert_eq!(service.api.with_key(second).get("/v1/webhooks").await.status, 200);
}

#[test]
fn a_short_or_weak_admin_key_is_refused_with_a_clear_message() {
    let dir = data_dir();
    for (key, says) in [("whk_too_short_0123456789", "at least 32 characters"), (&*"x".repeat(40), "too weak")] {
        let output = std::process::Command::new(webhooks_tests::binary_path())
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path())
            .env("WEBHOOKS_ADMIN_KEY", key)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{stderr}");
        assert!(!stderr.contains(key), "the key is not echoed: {stderr}");
    }
}

#[test]
fn an_endpoint_concurrency_out_of_range_is_refused() {
    let dir = data_dir();
    for value in ["0", "1001", "many"] {
        let output = std::process::Command::new(webhooks_tests::binary_path())
            .args(["serve", "--listen", "127.0.0.1:0", "--endpoint-concurrency", value, "--data"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{value} is refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("must be a whole number from 1 to 1000"), "{stderr}");
    }
}
