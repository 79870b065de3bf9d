//! The whole pipeline (the API's router, the dispatcher, the sender) over the core's `Ports`
//! with a fake HTTP client and a clock the test holds: every time a receiver sees, and every
//! time the history records, comes from that clock; every request is the fake's to answer.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use webhooks::backend::Ports;
use webhooks::deliveries::outbound::{HttpOutcome, HttpSender, OutboundRequest};
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::ports::Clock;
use webhooks::queues::Queue;
use webhooks::queues::dead_letters::DeadLetterQueues;
use webhooks::queues::definitions::Queues;
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::security::api_keys::Scope;
use webhooks::security::api_keys::mint;
use webhooks::security::url_guard::UrlPolicy;
use webhooks::time::Timestamp;
use webhooks_api::{ApiSettings, App, router};
use webhooks_pipeline::dispatcher::Dispatcher;
use webhooks_pipeline::sender::Sender;
use webhooks_sqlite::{SqliteDatabase, SqliteQueue, SqliteStore};
use webhooks_tests::{Api, seed_signature};

/// Answers each request with the next scripted status (then 200), in a fixed 7 ms.
#[derive(Clone, Default)]
struct FakeHttp {
    script: Arc<Mutex<Vec<u16>>>,
    sent: Arc<Mutex<Vec<OutboundRequest>>>,
}

const ANSWER_TIME: Duration = Duration::from_millis(7);

impl FakeHttp {
    fn sent(&self) -> Vec<OutboundRequest> {
        self.sent.lock().unwrap().clone()
    }
}

impl HttpSender for FakeHttp {
    async fn post(&self, request: OutboundRequest) -> HttpOutcome {
        self.sent.lock().unwrap().push(request);
        let mut script = self.script.lock().unwrap();
        let status = if script.is_empty() { 200 } else { script.remove(0) };
        HttpOutcome {
            status: Some(status),
            body: Some("ok".into()),
            error: None,
            duration: ANSWER_TIME,
            retry_after: None,
        }
    }
}

/// Stands still until the test moves it.
#[derive(Clone)]
struct HeldClock(Arc<AtomicI64>);

impl HeldClock {
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for HeldClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

struct Fakes;

impl Ports for Fakes {
    type Store = SqliteStore;
    type Queue = SqliteQueue;
    type Http = FakeHttp;
    type Clock = HeldClock;
}

fn header<'a>(request: &'a OutboundRequest, name: &str) -> &'a str {
    request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap()
}

#[tokio::test]
async fn the_pipeline_runs_on_a_fake_http_client_and_a_held_clock() {
    let dir = webhooks_tests::data_dir();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let policy =
        DeliveryPolicy { schedule: vec![Duration::from_secs(1)], disable_after: 10, timeout: Duration::from_secs(5) };
    let queues = Queues::named(None, &policy);
    let (events, deliveries) = (db.queue((&queues.events).into()), db.queue((&queues.deliveries).into()));
    let dead_letters = DeadLetterQueues {
        events: db.queue((&queues.events_dlq).into()),
        deliveries: db.queue((&queues.deliveries_dlq).into()),
    };
    // 2030-01-01T00:00:00Z: far from the machine's time, so any use of it shows.
    let start = Timestamp::from_millis(1_893_456_000_000);
    let clock = HeldClock(Arc::new(AtomicI64::new(start.as_millis())));
    let http = FakeHttp::default();
    let store = db.store();
    let key = mint("acme".into(), "test".into(), vec![Scope::Admin], clock.now(), None);
    store.create_api_key(&key.record, &key.key_hash).await.unwrap();

    let app = Arc::new(App::<Fakes> {
        store: store.clone(),
        events: events.clone(),
        deliveries: deliveries.clone(),
        dead_letters: dead_letters.clone(),
        http: http.clone(),
        clock: clock.clone(),
        settings: ApiSettings {
            url_policy: UrlPolicy::default(),
            max_endpoints: 10,
            policy: policy.clone(),
            accept_unknown_event_types: false,
            console_frame_ancestors: "'none'".into(),
            history: Default::default(),
        },
        metrics: Default::default(),
        tracer: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(app)).await.unwrap() });
    let api = Api::new(base, &key.key);
    let dispatcher = Dispatcher::new(store.clone(), deliveries.clone(), dead_letters.events.clone(), Duration::ZERO);
    let sender = Sender::new(store.clone(), deliveries.clone(), http.clone(), clock.clone(), policy);

    let created = api.create_endpoint("https://receiver.example/hook", &["run.failed"]).await;
    assert_eq!(created["created_at"], json!(start), "the endpoint is stamped by the held clock");
    let endpoint_id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let reply = api.post("/v1/events", json!({"type": "run.failed", "payload": {"run": 1}})).await;
    assert_eq!(reply.status, 202, "{:?}", reply.body);

    let batch = events.receive(10, Duration::from_secs(2)).await.unwrap();
    assert!(dispatcher.handle_batch(batch).await.is_empty());

    // The first attempt: 503, so a retry is scheduled from the held clock.
    http.script.lock().unwrap().push(503);
    clock.advance(Duration::from_secs(30));
    let first_at = clock.now();
    let batch = deliveries.receive(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(sender.handle_batch(batch).await.len(), 1, "the failed delivery stays on the queue");
    let sent = http.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url, "https://receiver.example/hook");
    assert_eq!(header(&sent[0], "webhook-timestamp"), first_at.unix_seconds().to_string());
    assert_eq!(header(&sent[0], "X-Webhook-Timestamp"), first_at.to_rfc3339());
    assert_eq!(header(&sent[0], "X-Webhook-Signature"), seed_signature(&secret, &sent[0].body));
    let log = api.get(&format!("/v1/webhooks/{endpoint_id}/deliveries")).await;
    let delivery = &log.body["data"][0];
    assert_eq!(delivery["status"], "pending");
    assert_eq!(delivery["last_error"], "receiver answered HTTP 503");
    let next = Timestamp::parse_rfc3339(delivery["next_retry_at"].as_str().unwrap()).unwrap();
    let wait = next.since(first_at);
    assert!((Duration::from_millis(900)..=Duration::from_millis(1100)).contains(&wait), "{wait:?}");

    // The retry, an hour later by the held clock.
    clock.advance(Duration::from_secs(3600));
    let second_at = clock.now();
    let batch = deliveries.receive(10, Duration::from_secs(3)).await.unwrap();
    assert_eq!(batch.len(), 1, "the retry came back after its visibility timeout");
    assert!(sender.handle_batch(batch).await.is_empty());
    let delivery_id = delivery["id"].as_str().unwrap();
    let detail = api.get(&format!("/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}")).await.body;
    assert_eq!(detail["status"], "delivered");
    assert_eq!(detail["attempts"], 2);
    assert_eq!(detail["delivered_at"], json!(second_at.plus(ANSWER_TIME)));
    let attempts: Vec<_> = detail["attempt_log"].as_array().unwrap().iter().map(|a| a["at"].clone()).collect();
    assert_eq!(attempts, vec![json!(first_at), json!(second_at)]);
    assert_eq!(header(&http.sent()[1], "webhook-timestamp"), second_at.unix_seconds().to_string());

    // The test route sends through the same recipe: same clock, same client, same headers.
    let test = api.post(&format!("/v1/webhooks/{endpoint_id}/test"), json!({})).await;
    assert_eq!(test.status, 200, "{:?}", test.body);
    assert_eq!(test.body["delivered"], true);
    assert_eq!(test.body["response_time_ms"], ANSWER_TIME.as_millis() as u64);
    let sent = http.sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(header(&sent[2], "X-Webhook-Event"), "webhook.test");
    assert_eq!(header(&sent[2], "webhook-timestamp"), second_at.unix_seconds().to_string());
    assert_eq!(header(&sent[2], "X-Webhook-Signature"), seed_signature(&secret, &sent[2].body));
    let names = |request: &OutboundRequest| -> Vec<String> {
        let mut names: Vec<String> = request.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        names.sort();
        names
    };
    assert_eq!(names(&sent[2]), names(&sent[0]), "the test is signed and sent as a delivery is");
}
