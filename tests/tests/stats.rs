//! `GET /v1/webhooks/{id}/stats`: what the sender counted, by hour and by day, against real
//! receivers on the embedded backend (the DynamoDB adapter passes the same port conformance,
//! and `aws_cost.rs` counts its writes).

use std::time::Duration;

use serde_json::{Value, json};
use webhooks::time::Timestamp;
use webhooks_tests::{Receiver, Service, fast_policy};

fn totals(stats: &Value) -> (u64, u64, u64) {
    let totals = &stats["totals"];
    (totals["delivered"].as_u64().unwrap(), totals["retrying"].as_u64().unwrap(), totals["failed"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoints_stats_count_each_attempt_by_its_outcome() {
    // One retry, a second later: a failing receiver's delivery is retried once, then failed.
    let service = Service::start_with(|config| config.settings.policy = fast_policy(1)).await;
    let (good, bad) = (Receiver::start().await, Receiver::start().await);
    bad.always(500);
    let api = &service.api;
    let delivering =
        api.create_endpoint_with(json!({"url": good.url("/a"), "events": ["run.failed"], "uid": "shop-1"})).await;
    let failing = api.create_endpoint(&bad.url("/b"), &["run.failed"]).await;
    let (delivering, failing) = (delivering["id"].as_str().unwrap(), failing["id"].as_str().unwrap());

    let nothing = api.get(&format!("/v1/webhooks/{delivering}/stats")).await;
    assert_eq!(nothing.status, 200, "{:?}", nothing.body);
    assert_eq!(totals(&nothing.body), (0, 0, 0));
    assert_eq!(nothing.body["totals"]["failure_rate"], Value::Null, "no rate without a count");
    assert_eq!(nothing.body["bucket"], "hour", "24 hours by the hour");
    let buckets = nothing.body["buckets"].as_array().unwrap();
    assert!((24..=25).contains(&buckets.len()), "every hour of the span, zeros included: {}", buckets.len());

    let events: Vec<Value> = (0..3).map(|n| json!({"type": "run.failed", "payload": {"run": n}})).collect();
    api.send_events(json!({"events": events})).await;
    let test = api.post(&format!("/v1/webhooks/{delivering}/test"), json!({"event_type": "run.failed"})).await;
    assert_eq!(test.status, 200, "{:?}", test.body);

    // Written within a second of the batch (serve flushes every second); by uid too.
    let wait = Duration::from_secs(30);
    let stats = api.wait_until("/v1/webhooks/shop-1/stats", wait, |s| totals(s) == (4, 0, 0)).await;
    assert_eq!(stats["endpoint_id"], delivering);
    assert_eq!(stats["totals"]["failure_rate"], 0.0);
    // In this hour's bucket (or the one before, if an hour began since).
    let hours = stats["buckets"].as_array().unwrap();
    let recent: u64 = hours[hours.len() - 2..].iter().map(|hour| hour["delivered"].as_u64().unwrap()).sum();
    assert_eq!(recent, 4);
    let failed = api.wait_until(&format!("/v1/webhooks/{failing}/stats"), wait, |s| totals(s) == (0, 3, 3)).await;
    assert_eq!(failed["totals"]["failure_rate"], 1.0, "every attempt failed");
    assert_eq!(bad.received().len(), 6, "three deliveries, tried twice each");

    // A week by the day: eight days from the one a week ago to today, the counts in the last.
    let week_ago = Timestamp::now().minus(Duration::from_secs(7 * 24 * 3600)).to_rfc3339();
    let week = api.get(&format!("/v1/webhooks/{delivering}/stats?since={week_ago}")).await;
    assert_eq!(week.status, 200, "{:?}", week.body);
    assert_eq!(week.body["bucket"], "day");
    let days = week.body["buckets"].as_array().unwrap();
    assert_eq!(days.len(), 8);
    let recent: u64 = days[6..].iter().map(|day| day["delivered"].as_u64().unwrap()).sum();
    assert_eq!(recent, 4, "today's (or, just past midnight, yesterday's)");
    assert!(days[..6].iter().all(|day| day["delivered"] == 0 && day["failed"] == 0));
    let by_hour = api.get(&format!("/v1/webhooks/{delivering}/stats?since={week_ago}&bucket=hour")).await;
    assert_eq!(by_hour.body["buckets"].as_array().unwrap().len(), 7 * 24 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_refuse_what_they_cannot_answer() {
    let service = Service::start().await;
    let api = &service.api;
    let endpoint = api.create_endpoint("https://example.com/hook", &["run.failed"]).await;
    let id = endpoint["id"].as_str().unwrap();
    let long_ago = Timestamp::now().minus(Duration::from_secs(32 * 24 * 3600)).to_rfc3339();
    let now = Timestamp::now().to_rfc3339();
    for (query, field) in [
        (format!("since={long_ago}"), "since"),
        ("since=yesterday".to_owned(), "since"),
        ("until=2026-13-01T00:00:00Z".to_owned(), "until"),
        (format!("since={now}&until={now}"), "until"),
        (format!("until=9999-12-31T00:00:00Z&since={now}"), "until"),
        ("bucket=week".to_owned(), "bucket"),
        ("span=7d".to_owned(), "span"),
    ] {
        let refused = api.get(&format!("/v1/webhooks/{id}/stats?{query}")).await;
        assert_eq!((refused.status, refused.code()), (400, "validation_error"), "{query}: {:?}", refused.body);
        assert!(refused.body.to_string().contains(field), "{query}: {:?}", refused.body);
    }
    let other = api.with_key(&api.mint_key("other", &["webhooks:read"]).await);
    assert_eq!(other.get(&format!("/v1/webhooks/{id}/stats")).await.status, 404, "another tenant's endpoint");
    assert_eq!(api.get("/v1/webhooks/ep_nothing/stats").await.status, 404);
}
