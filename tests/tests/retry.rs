//! A manual retry whose enqueue fails leaves the delivery failed (and retryable), never a
//! pending delivery that nothing will send. The API runs over a real SQLite store and a queue
//! the test can make fail.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::Event;
use webhooks::events::store::EventStore;
use webhooks::ids::DeliveryId;
use webhooks::ports::{BackendError, SystemClock};
use webhooks::queues::dead_letters::DeadLetterQueues;
use webhooks::queues::{Queue, QueueError, ReceivedMessage};
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::security::api_keys::Scope;
use webhooks::security::api_keys::mint;
use webhooks::security::signing::Secret;
use webhooks::security::url_guard::UrlPolicy;
use webhooks::time::Timestamp;
use webhooks_api::{ApiSettings, App, Ports, router};
use webhooks_http::ReqwestSender;
use webhooks_sqlite::{QueueSettings, SqliteDatabase, SqliteQueue, SqliteStore};
use webhooks_tests::{ADMIN_KEY, Api, Captured, data_dir};

/// What the flaky queue's failures are caused by: only logs may show it.
const CAUSE: &str = "connection refused by 10.0.0.7:443";

/// The queue's failure, with its cause kept as a source (as the adapters keep the SDK's).
fn unreachable() -> QueueError {
    let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, CAUSE);
    QueueError::Backend(BackendError::caused_by("the queue is unreachable", cause))
}

/// The SQLite queue, failing every send while `down` is set.
#[derive(Clone)]
struct FlakyQueue {
    inner: SqliteQueue,
    down: Arc<AtomicBool>,
}

impl Queue for FlakyQueue {
    async fn send_batch(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unreachable());
        }
        self.inner.send_batch(bodies).await
    }

    async fn send_delayed(&self, body: String, delay: Duration) -> Result<(), QueueError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unreachable());
        }
        self.inner.send_delayed(body, delay).await
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.inner.receive(max, wait).await
    }

    async fn park(&self, body: String, reason: &str) -> Result<(), QueueError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(unreachable());
        }
        self.inner.park(body, reason).await
    }

    async fn peek(&self, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.inner.peek(max).await
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        self.inner.depth().await
    }

    async fn delete_batch(&self, receipts: Vec<String>) -> Result<(), QueueError> {
        self.inner.delete_batch(receipts).await
    }

    async fn change_visibility(&self, receipt: &str, hidden_for: Duration) -> Result<(), QueueError> {
        self.inner.change_visibility(receipt, hidden_for).await
    }
}

struct Flaky;

impl Ports for Flaky {
    type Store = SqliteStore;
    type Queue = FlakyQueue;
    type Http = ReqwestSender;
    type Clock = SystemClock;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_whose_enqueue_fails_leaves_the_delivery_failed() {
    // Every thread's logs: the API answers on the runtime's worker threads.
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(webhooks_lambda::json_logs(move || writer.clone())).unwrap();
    let dir = data_dir();
    let db = SqliteDatabase::open(&dir.path().join("db.sqlite3")).unwrap();
    let store = db.store();
    let admin = mint("default".into(), "admin".into(), vec![Scope::Admin], Timestamp::now(), Some(ADMIN_KEY.into()));
    store.create_api_key(&admin.record, &admin.key_hash).await.unwrap();
    let settings = |name: &str| QueueSettings {
        name: name.into(),
        visibility_timeout: Duration::from_secs(30),
        max_receive_count: None,
        dead_letter_queue: None,
    };
    let down = Arc::new(AtomicBool::new(true));
    let deliveries = FlakyQueue { inner: db.queue(settings("deliveries")), down: down.clone() };
    let app = Arc::new(App::<Flaky> {
        store: store.clone(),
        events: FlakyQueue { inner: db.queue(settings("events")), down: Arc::default() },
        deliveries: deliveries.clone(),
        dead_letters: DeadLetterQueues {
            events: FlakyQueue { inner: db.queue(settings("events-dlq")), down: Arc::default() },
            deliveries: FlakyQueue { inner: db.queue(settings("deliveries-dlq")), down: Arc::default() },
        },
        http: ReqwestSender::new(UrlPolicy::default()),
        clock: SystemClock,
        settings: ApiSettings {
            url_policy: UrlPolicy::default(),
            max_endpoints: 100,
            policy: DeliveryPolicy::default(),
            accept_unknown_event_types: false,
            console_frame_ancestors: "'none'".into(),
            history: Default::default(),
        },
        metrics: Default::default(),
        tracer: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = Api::new(format!("http://{}", listener.local_addr().unwrap()), ADMIN_KEY);
    tokio::spawn(async move { axum::serve(listener, router(app)).await.unwrap() });

    // A delivery that failed after one attempt.
    let now = Timestamp::now();
    let endpoint = Endpoint::new(
        "default".into(),
        "https://example.com/hook".into(),
        vec!["run.failed".into()],
        Secret::new("s".repeat(32)),
        now,
    );
    store.create_endpoint(&endpoint).await.unwrap();
    let payload = serde_json::value::RawValue::from_string(r#"{"run":1}"#.into()).unwrap();
    let event = Event {
        tenant: "default".into(),
        id: "evt-1".into(),
        event_type: "run.failed".into(),
        entity_id: None,
        payload,
        created_at: now,
    };
    store.record_event(&event, "m").await.unwrap();
    let delivery = Delivery {
        id: DeliveryId::for_event("default", "evt-1", &endpoint.id, now),
        tenant: "default".into(),
        endpoint_id: endpoint.id.clone(),
        event_id: "evt-1".into(),
        event_type: "run.failed".into(),
        status: DeliveryStatus::Failed,
        http_status: Some(500),
        attempts: 0,
        created_at: now,
        delivered_at: None,
        next_retry_at: None,
        last_error: Some("receiver answered HTTP 500".into()),
    };
    let attempt = Attempt { at: now, duration_ms: 1, http_status: Some(500), response_body: None, error: None };
    store.save_delivery(&delivery, Some(&attempt)).await.unwrap();
    let retry = format!("/v1/webhooks/{}/deliveries/{}/retry", endpoint.id, delivery.id);

    let refused = api.post(&retry, json!({})).await;
    assert_eq!((refused.status, refused.code()), (500, "internal_error"), "{:?}", refused.body);
    assert!(!refused.body.to_string().contains("unreachable"), "no internal detail in the body");
    assert!(!refused.body.to_string().contains(CAUSE), "nor its cause");
    let logs = captured.text();
    let line = logs.lines().find(|line| line.contains("request failed")).unwrap_or_else(|| panic!("{logs}"));
    assert!(line.contains(&format!("the queue is unreachable: {CAUSE}")), "the log has the whole chain: {line}");
    let status = store.delivery_status("default", &endpoint.id, &delivery.id).await.unwrap();
    assert_eq!(status, Some(DeliveryStatus::Failed), "still failed, so still retryable");
    assert_eq!(deliveries.inner.depth().await.unwrap(), 0);

    down.store(false, Ordering::SeqCst);
    let accepted = api.post(&retry, json!({})).await;
    assert_eq!((accepted.status, accepted.body["status"].clone()), (202, json!("pending")), "{:?}", accepted.body);
    let status = store.delivery_status("default", &endpoint.id, &delivery.id).await.unwrap();
    assert_eq!(status, Some(DeliveryStatus::Pending));
    assert_eq!(deliveries.inner.depth().await.unwrap(), 1);
}
