//! An endpoint's `rate_limit` (deliveries per second) holds on both backends, counted by a
//! receiver per second, and costs no attempts: with no retries at all (a message's second
//! receive would park it), every delivery past the limit is deferred and still arrives once,
//! with one attempt. The limit is validated, shown, and lifted with `null`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use webhooks_tests::{Api, Binary, Receiver, Service, numbered_events};

const LIMIT: usize = 4;
const EVENTS: usize = 24;

async fn rate_limit_holds(api: &Api) {
    let receiver = Receiver::start().await;
    let endpoint = api
        .create_endpoint_with(json!({"url": receiver.url("/limited"), "events": ["run.failed"], "rate_limit": LIMIT}))
        .await;
    assert_eq!(endpoint["rate_limit"], LIMIT);
    let (started, started_at) = (Instant::now(), SystemTime::now());
    api.send_events(numbered_events(0..EVENTS)).await;

    let got = receiver.wait_for_each(EVENTS, Duration::from_secs(90)).await;

    // Per second as signed (the second the sender counted the attempt in)...
    let mut by_signed_second = BTreeMap::<u64, usize>::new();
    for request in &got {
        *by_signed_second.entry(request.header("webhook-timestamp").parse().unwrap()).or_default() += 1;
    }
    // ...and per second of arrival, where an attempt counted at the end of a second may land in
    // the next one.
    let mut by_arrival_second = BTreeMap::<u64, usize>::new();
    for request in &got {
        let arrived = started_at + (request.at - started);
        *by_arrival_second.entry(arrived.duration_since(UNIX_EPOCH).unwrap().as_secs()).or_default() += 1;
    }
    println!("{EVENTS} deliveries limited to {LIMIT}/s: per signed second {by_signed_second:?}");
    assert!(by_signed_second.values().all(|n| *n <= LIMIT), "per signed second: {by_signed_second:?}");
    assert!(by_arrival_second.values().all(|n| *n <= LIMIT + 1), "per arrival second: {by_arrival_second:?}");
    let seconds = by_signed_second.keys().last().unwrap() - by_signed_second.keys().next().unwrap();
    assert!(seconds as usize >= EVENTS / LIMIT - 1, "took {seconds} s");

    api.assert_delivered_once_each(endpoint["id"].as_str().unwrap(), EVENTS).await;
    receiver.assert_stays_at(EVENTS, Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_rate_limit_holds_without_using_attempts() {
    let service = Service::start_with(|config| config.settings.policy.schedule.clear()).await;
    rate_limit_holds(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_a_rate_limit_holds_without_using_attempts() {
    let (_data, service) = Binary::serve_on_aws("rate", &["--retry-schedule", ""]);
    rate_limit_holds(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_validated_shown_and_lifted() {
    let service = Service::start().await;
    let api = &service.api;
    for bad in [json!(0), json!(1001), json!(-1), json!(2.5), json!("10")] {
        let reply = api
            .post("/v1/webhooks", json!({"url": "http://127.0.0.1:9/x", "events": ["run.failed"], "rate_limit": bad}))
            .await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
    }
    let reply = api
        .post("/v1/webhooks", json!({"url": "http://127.0.0.1:9/x", "events": ["run.failed"], "rate_limit": 0}))
        .await;
    assert_eq!(reply.body["error"]["details"][0]["field"], "rate_limit", "{:?}", reply.body);

    let endpoint = api.create_endpoint("http://127.0.0.1:9/x", &["run.failed"]).await;
    assert!(endpoint["rate_limit"].is_null(), "no limit unless asked");
    let path = format!("/v1/webhooks/{}", endpoint["id"].as_str().unwrap());
    let limited = api.patch(&path, json!({"rate_limit": 1000})).await;
    assert_eq!((limited.status, &limited.body["rate_limit"]), (200, &json!(1000)));
    let untouched = api.patch(&path, json!({"description": "kept"})).await;
    assert_eq!(untouched.body["rate_limit"], 1000, "an absent field stays");
    let lifted = api.patch(&path, json!({"rate_limit": null})).await;
    assert!(lifted.body["rate_limit"].is_null());
    assert!(api.get(&path).await.body["rate_limit"].is_null());
}
