//! The sender's batch handling over a real SQLite store and queue, with a scripted HTTP port.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::value::RawValue;
use webhooks::deliveries::DeliveryStatus;
use webhooks::deliveries::outbound::{HttpOutcome, HttpSender, OutboundRequest};
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::ids::DeliveryId;
use webhooks::ports::SystemClock;
use webhooks::queues::Queue;
use webhooks::queues::messages::DeliveryMessage;
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_pipeline::sender::Sender;
use webhooks_sqlite::{QueueSettings, SqliteDatabase};

/// Answers 200 unless the body contains "fail"; remembers what it was asked to send.
#[derive(Default)]
struct ScriptedHttp {
    sent: Mutex<Vec<OutboundRequest>>,
}

impl HttpSender for ScriptedHttp {
    async fn post(&self, request: OutboundRequest) -> HttpOutcome {
        let fail = String::from_utf8_lossy(&request.body).contains("fail");
        self.sent.lock().unwrap().push(request);
        HttpOutcome {
            status: Some(if fail { 500 } else { 200 }),
            body: Some(String::new()),
            error: None,
            duration: Duration::from_millis(1),
            retry_after: None,
        }
    }
}

/// A database in `dir` holding one endpoint of tenant `acme`, subscribed to everything.
async fn database_with_endpoint(dir: &tempfile::TempDir) -> (SqliteDatabase, Endpoint) {
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let endpoint = Endpoint::new(
        "acme".into(),
        "https://example.com/hook".into(),
        vec!["*".into()],
        Secret::new("k".repeat(24)),
        Timestamp::now(),
    );
    db.store().create_endpoint(&endpoint).await.unwrap();
    (db, endpoint)
}

#[tokio::test]
async fn failed_messages_are_reported_and_hidden_for_their_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let (db, endpoint) = database_with_endpoint(&dir).await;
    let store = db.store();
    let now = endpoint.created_at;
    let queue = db.queue(QueueSettings {
        name: "deliveries".into(),
        visibility_timeout: Duration::from_secs(60),
        max_receive_count: Some(3),
        dead_letter_queue: Some("deliveries-dlq".into()),
    });
    let bodies: Vec<String> = ["ok-1", "fail-2", "ok-3"]
        .iter()
        .map(|name| {
            let payload = RawValue::from_string(format!(r#"{{"name":"{name}"}}"#)).unwrap();
            serde_json::to_string(&DeliveryMessage {
                id: DeliveryId::for_event("acme", name, &endpoint.id, now),
                tenant: "acme".into(),
                endpoint_id: endpoint.id.clone(),
                event_id: (*name).into(),
                event_type: "run.failed".into(),
                created_at: now,
                // A message from before deliveries stopped carrying the payload: still sent.
                payload: Some(&payload),
                attempts_before: 0,
                deferrals: 0,
                resend_after: None,
                traceparent: None,
            })
            .unwrap()
        })
        .collect();
    queue.send_batch(bodies).await.unwrap();
    let batch = queue.receive(10, Duration::ZERO).await.unwrap();
    let failing_id = batch.iter().find(|m| m.body.contains("fail-2")).unwrap().message_id.clone();

    let policy =
        DeliveryPolicy { schedule: vec![Duration::from_secs(2)], disable_after: 10, timeout: Duration::from_secs(1) };
    let sender = Sender::new(store.clone(), queue.clone(), ScriptedHttp::default(), SystemClock, policy);
    assert_eq!(sender.handle_batch(batch).await, [failing_id]);
    assert_eq!(sender.http.sent.lock().unwrap().len(), 3);

    // The failed one is hidden for its backoff (about 2 s), not the 60 s visibility timeout.
    assert!(queue.receive(10, Duration::from_millis(500)).await.unwrap().is_empty());
    let retry = queue.receive(10, Duration::from_secs(5)).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].receive_count, 2);
    let pending = DeliveryId::for_event("acme", "fail-2", &endpoint.id, now);
    assert_eq!(store.delivery_status("acme", &endpoint.id, &pending).await.unwrap(), Some(DeliveryStatus::Pending));

    // The last attempt fails too: a failed delivery in the history, and the message done (the
    // DLQ is for what the pipeline could not handle).
    assert!(sender.handle_batch(retry).await.is_empty());
    assert_eq!(store.delivery_status("acme", &endpoint.id, &pending).await.unwrap(), Some(DeliveryStatus::Failed));
    // Counted as consecutive failures: 2, or 1 if a success of the first batch, sent at the
    // same time, was recorded after its first failure.
    let failures = store.get_endpoint("acme", &endpoint.id).await.unwrap().failure_count;
    assert!(matches!(failures, 1 | 2), "{failures}");
    assert!(queue.receive(10, Duration::from_secs(3)).await.unwrap().is_empty());
    let dlq = db.queue(QueueSettings {
        name: "deliveries-dlq".into(),
        visibility_timeout: Duration::from_secs(60),
        max_receive_count: None,
        dead_letter_queue: None,
    });
    assert_eq!(dlq.depth().await.unwrap(), 0);
}

#[tokio::test]
async fn what_cannot_be_processed_is_parked_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let settings = |name: &str| QueueSettings {
        name: name.into(),
        visibility_timeout: Duration::from_secs(60),
        max_receive_count: None,
        dead_letter_queue: None,
    };
    let (queue, dlq) = (db.queue(settings("deliveries")), db.queue(settings("deliveries-dlq")));
    let policy =
        DeliveryPolicy { schedule: vec![Duration::from_secs(2)], disable_after: 10, timeout: Duration::from_secs(1) };
    let sender = Sender::new(db.store(), queue.clone(), ScriptedHttp::default(), SystemClock, policy)
        .with_dead_letters(dlq.clone());
    let now = Timestamp::now();
    let endpoint_id = webhooks::ids::EndpointId::generate(now);
    let delivery = serde_json::to_string(&DeliveryMessage {
        id: DeliveryId::for_event("acme", "evt-1", &endpoint_id, now),
        tenant: "acme".into(),
        endpoint_id,
        event_id: "evt-1".into(),
        event_type: "run.failed".into(),
        created_at: now,
        payload: None,
        attempts_before: 0,
        deferrals: 0,
        resend_after: None,
        traceparent: None,
    })
    .unwrap();
    // The store breaks: every endpoint read fails.
    let raw = rusqlite::Connection::open(dir.path().join("db")).unwrap();
    raw.execute_batch("DROP TABLE endpoints").unwrap();
    queue.send_batch(vec!["{not a delivery".into(), delivery.clone()]).await.unwrap();

    // A malformed message is parked at once; the other is retried while receives are left.
    let batch = queue.receive(10, Duration::ZERO).await.unwrap();
    let retried = batch.iter().find(|m| m.body == delivery).unwrap().message_id.clone();
    assert_eq!(sender.handle_batch(batch).await, [retried]);
    let parked = dlq.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].body, "{not a delivery", "unchanged");
    let reason = parked[0].reason.as_deref().unwrap();
    assert!(reason.starts_with("malformed delivery message: "), "{reason}");
    dlq.delete_batch(vec![parked[0].receipt.clone()]).await.unwrap();

    // Its last receive (the first attempt plus one retry) fails too: parked, with the error.
    let mut last = queue.receive(10, Duration::ZERO).await.unwrap();
    assert!(last.is_empty(), "hidden for its visibility timeout");
    queue.send_batch(vec![delivery.clone()]).await.unwrap();
    last = queue.receive(10, Duration::ZERO).await.unwrap();
    last[0].receive_count = 2;
    assert!(sender.handle_batch(last).await.is_empty(), "done with: parked");
    let parked = dlq.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].body, delivery, "unchanged");
    let reason = parked[0].reason.as_deref().unwrap();
    assert!(reason.starts_with("not processed in 2 receives; last error: "), "{reason}");
    assert!(reason.contains("endpoints"), "the store's error: {reason}");
}

/// A resend of a delivered delivery goes out once: a second receive of the same message
/// (SQS redelivers at least once) finds an attempt made since, and sends nothing; a message
/// that is not a resend never sends a delivered delivery again.
#[tokio::test]
async fn a_resend_is_sent_once_even_when_its_message_comes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (db, endpoint) = database_with_endpoint(&dir).await;
    let store = db.store();
    let now = endpoint.created_at;
    let queue = db.queue(QueueSettings {
        name: "deliveries".into(),
        visibility_timeout: Duration::from_secs(60),
        max_receive_count: None,
        dead_letter_queue: None,
    });
    let sender = Sender::new(store.clone(), queue, ScriptedHttp::default(), SystemClock, DeliveryPolicy::default());
    let sent = || sender.http.sent.lock().unwrap().len();
    let payload = RawValue::from_string(r#"{"n":1}"#.into()).unwrap();
    let received = |resend_after: Option<u32>, receive_count: u32| webhooks::queues::ReceivedMessage {
        message_id: "m1".into(),
        receipt: "r1".into(),
        body: serde_json::to_string(&DeliveryMessage {
            id: DeliveryId::for_event("acme", "evt-1", &endpoint.id, now),
            tenant: "acme".into(),
            endpoint_id: endpoint.id.clone(),
            event_id: "evt-1".into(),
            event_type: "run.completed".into(),
            created_at: now,
            payload: Some(&payload),
            attempts_before: 0,
            deferrals: 0,
            resend_after,
            traceparent: None,
        })
        .unwrap(),
        receive_count,
        sent_at: now,
        reason: None,
    };
    let message = |resend_after| received(resend_after, 1);
    let delivery_id = DeliveryId::for_event("acme", "evt-1", &endpoint.id, now);
    let status = || store.delivery_status("acme", &endpoint.id, &delivery_id);

    assert!(sender.handle_batch(vec![message(None)]).await.is_empty());
    assert_eq!(status().await.unwrap(), Some(DeliveryStatus::Delivered));
    assert_eq!(sent(), 1);
    assert!(sender.handle_batch(vec![received(None, 2)]).await.is_empty());
    assert_eq!(sent(), 1, "a redelivered first message sends nothing");

    // Asked when it had 1 attempt: sent once, however often the message comes.
    for _ in 0..2 {
        assert!(sender.handle_batch(vec![message(Some(1))]).await.is_empty());
        assert_eq!(sent(), 2);
    }
}
