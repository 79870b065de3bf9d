//! `/v1/dead-letters/{events|deliveries}` on both backends: what the pipeline could not
//! handle is there with its reason, an admin looks at it, and a redrive sends it back to its
//! queue, where a fixed message goes on to its receiver.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks::queues::Queue;
use webhooks::queues::definitions::Queues;
use webhooks_aws::sqs::SqsQueue;
use webhooks_cli::data_dir::DATABASE_FILE;
use webhooks_sqlite::SqliteDatabase;
use webhooks_tests::local_aws::{local_aws, unique_name};
use webhooks_tests::{ADMIN_KEY, Api, Binary, Receiver, Service, data_dir, fast_policy};

const WAIT: Duration = Duration::from_secs(30);

/// An event as another service would send it straight to the events queue.
fn event(id: &str) -> String {
    json!({"tenant": "default", "id": id, "type": "run.failed", "payload": {"run": id}}).to_string()
}

async fn parked(api: &Api, queue: &str, depth: u64) -> Value {
    api.wait_until(&format!("/v1/dead-letters/{queue}"), WAIT, |body| body["depth"] == depth).await
}

/// The route's answers to what it must refuse: non-admin keys, unknown queues and parameters.
async fn refusals(api: &Api) {
    let reader = api.with_key(&api.mint_key("default", &["webhooks:read", "webhooks:write"]).await);
    for (method, path) in [("GET", "/v1/dead-letters/events"), ("POST", "/v1/dead-letters/events/redrive")] {
        let reply = reader.call(method, path, None).await;
        assert_eq!((reply.status, reply.code()), (403, "forbidden"), "{method} {path}");
    }
    let reply = api.get("/v1/dead-letters/nope").await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"));
    for query in ["limit=0", "limit=11", "limit=x", "offset=1"] {
        let reply = api.get(&format!("/v1/dead-letters/deliveries?{query}")).await;
        assert_eq!((reply.status, reply.code()), (400, "validation_error"), "{query}");
    }
    let reply = api.post("/v1/dead-letters/events/redrive", json!({"queue": "events"})).await;
    assert_eq!((reply.status, reply.code()), (400, "validation_error"), "no fields are taken");
    let reply = api.get("/v1/dead-letters/deliveries").await;
    assert_eq!((reply.status, reply.body["depth"].clone(), reply.body["data"].clone()), (200, json!(0), json!([])));
}

/// `events` is the events queue as another service reaches it, `dead_letters` its DLQ.
async fn look_and_redrive(api: &Api, events: &impl Queue, dead_letters: &impl Queue) {
    let receiver = Receiver::start().await;
    api.create_endpoint(&receiver.url("/hook"), &["run.failed"]).await;

    // Sent straight to the queue, not an event: parked at once, unchanged, with why.
    events.send_batch(vec!["not json".into()]).await.unwrap();
    let look = parked(api, "events", 1).await;
    assert_eq!(look["queue"], "events");
    assert_eq!(look["data"][0]["body"], "not json");
    let reason = look["data"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("malformed event message: expected"), "{reason}");
    assert!(look["data"][0]["message_id"].is_string() && look["data"][0]["sent_at"].is_string(), "{look}");

    // An event parked while its cause is being fixed: a redrive sends both back; the event
    // reaches its receiver, and the malformed one is parked again.
    dead_letters.park(event("evt-parked"), "parked by hand").await.unwrap();
    let look = parked(api, "events", 2).await;
    let reasons: Vec<&str> = look["data"].as_array().unwrap().iter().map(|m| m["reason"].as_str().unwrap()).collect();
    assert!(reasons.contains(&"parked by hand"), "{reasons:?}");
    let one = api.get("/v1/dead-letters/events?limit=1").await;
    assert_eq!(one.body["data"].as_array().unwrap().len(), 1, "limit");

    let redrive = api.post("/v1/dead-letters/events/redrive", json!({})).await;
    assert_eq!((redrive.status, redrive.body["moved"].clone()), (200, json!(2)), "{:?}", redrive.body);
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(&got[0].body[..], br#"{"run":"evt-parked"}"#);
    let look = parked(api, "events", 1).await;
    assert_eq!(look["data"][0]["body"], "not json", "parked again");
    receiver.assert_stays_at(1, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_dead_letters_are_shown_with_their_reason_and_redriven() {
    let service = Service::start().await;
    refusals(&service.api).await;
    // Another handle on the same file, as another process would reach the queue.
    let db = SqliteDatabase::open(&service.data.join(DATABASE_FILE)).unwrap();
    let queues = Queues::named(None, &fast_policy(5));
    look_and_redrive(&service.api, &db.queue((&queues.events).into()), &db.queue((&queues.events_dlq).into())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_on_sqs_are_shown_with_their_reason_and_redriven() {
    let data = data_dir();
    let prefix = unique_name("dlq");
    let service = Binary::serve_with_env(
        data.path(),
        &["--aws", "--provision", "--prefix", &prefix],
        Some(ADMIN_KEY),
        &local_aws().env(),
    );
    let sqs = aws_sdk_sqs::Client::new(&local_aws().sdk_config().await);
    let url = |name: String| {
        let sqs = sqs.clone();
        async move { sqs.get_queue_url().queue_name(name).send().await.unwrap().queue_url.unwrap() }
    };
    let events = SqsQueue::new(sqs.clone(), url(format!("{prefix}-events")).await, Default::default());
    let dead_letters = SqsQueue::new(sqs.clone(), url(format!("{prefix}-events-dlq")).await, Default::default());
    refusals(&service.api).await;
    look_and_redrive(&service.api, &events, &dead_letters).await;
}
