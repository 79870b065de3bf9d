//! The dispatcher over a real SQLite store and queue.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use webhooks::backend::Store;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::queues::dead_letters::EVENT_MAX_RECEIVES;
use webhooks::queues::messages::DeliveryMessage;
use webhooks::queues::{Queue, QueueError, ReceivedMessage};
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_pipeline::dispatcher::{Dispatcher, SEND_AT};
use webhooks_sqlite::{QueueSettings, SqliteDatabase, SqliteQueue};

fn settings(name: &str) -> QueueSettings {
    QueueSettings {
        name: name.into(),
        visibility_timeout: Duration::from_secs(30),
        max_receive_count: None,
        dead_letter_queue: None,
    }
}

/// An endpoint of tenant `acme` with `filters` given as the API takes them (JSON).
fn endpoint(events: &[&str], filters: &str) -> Endpoint {
    Endpoint {
        event_filters: serde_json::from_str(filters).unwrap(),
        ..Endpoint::new(
            "acme".into(),
            "https://example.com".into(),
            events.iter().map(|e| e.to_string()).collect(),
            Secret::new("x".repeat(20)),
            Timestamp::now(),
        )
    }
}

fn message(id: &str, body: &str) -> ReceivedMessage {
    ReceivedMessage {
        message_id: id.into(),
        receipt: format!("{id}.1"),
        body: body.into(),
        receive_count: 1,
        sent_at: Timestamp::from_millis(1_700_000_000_000),
        reason: None,
    }
}

/// Dispatches one message as the event sources do (a batch of one), which must not fail;
/// answers how many deliveries it enqueued.
async fn dispatch(dispatcher: &Dispatcher<impl Store, SqliteQueue>, message: &ReceivedMessage) -> u64 {
    let before = dispatcher.deliveries.depth().await.unwrap();
    let failed = dispatcher.handle_batch(vec![message.clone()]).await;
    assert!(failed.is_empty(), "{failed:?}");
    dispatcher.deliveries.depth().await.unwrap() - before
}

async fn drain(queue: &SqliteQueue) -> Vec<(String, String)> {
    let received = queue.receive(100, Duration::ZERO).await.unwrap();
    queue.delete_batch(received.iter().map(|m| m.receipt.clone()).collect()).await.unwrap();
    let mut pending: Vec<(String, String)> = received
        .iter()
        .map(|m| {
            let pending: DeliveryMessage<'_> = serde_json::from_str(&m.body).unwrap();
            (pending.id.to_string(), pending.endpoint_id.to_string())
        })
        .collect();
    pending.sort();
    pending
}

#[tokio::test]
async fn one_pending_delivery_per_matching_endpoint_with_stable_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let store = db.store();
    let matching = endpoint(&["run.*"], "{}");
    let filtered_in = endpoint(&["run.failed"], r#"{"run.failed": [7]}"#);
    let filtered_out = endpoint(&["run.failed"], r#"{"run.failed": [8]}"#);
    let other_type = endpoint(&["agent.created"], "{}");
    // A payload filter under the family: the event's payload has x = 1.
    let payload_in = endpoint(&["run.*"], r#"{"run.*": {"x": [1.0, "y"]}}"#);
    let payload_out = endpoint(&["run.*"], r#"{"run.*": {"x": ["1"]}}"#);
    for e in [&matching, &filtered_in, &filtered_out, &other_type, &payload_in, &payload_out] {
        store.create_endpoint(e).await.unwrap();
    }
    let dispatcher =
        Dispatcher::new(store, db.queue(settings("deliveries")), db.queue(settings("events-dlq")), Duration::ZERO);
    let body = r#"{"tenant":"acme","id":"evt-1","type":"run.failed","entity_id":"7","payload":{"x":1}}"#;

    assert_eq!(dispatch(&dispatcher, &message("m1", body)).await, 3);
    let first = drain(&dispatcher.deliveries).await;
    let mut expected = vec![matching.id.to_string(), filtered_in.id.to_string(), payload_in.id.to_string()];
    expected.sort();
    let mut endpoints: Vec<String> = first.iter().map(|(_, e)| e.clone()).collect();
    endpoints.sort();
    assert_eq!(endpoints, expected);

    // The same message again (a redelivery after a crash): the same delivery ids.
    assert_eq!(dispatch(&dispatcher, &message("m1", body)).await, 3);
    assert_eq!(drain(&dispatcher.deliveries).await, first);

    // The same event id in another message (a producer's retry): nothing more.
    assert_eq!(dispatch(&dispatcher, &message("m2", body)).await, 0);
    assert!(drain(&dispatcher.deliveries).await.is_empty());
}

#[tokio::test]
async fn messages_that_are_not_events_move_to_the_dlq_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let dispatcher =
        Dispatcher::new(db.store(), db.queue(settings("deliveries")), db.queue(settings("events-dlq")), Duration::ZERO);
    let good = r#"{"tenant":"acme","id":"evt-2","type":"run.failed","payload":{}}"#;
    let unknown_type = r#"{"tenant":"acme","id":"evt-3","type":"no.such","payload":{}}"#;
    let bad_tenant = r#"{"tenant":"a#b","id":"evt-4","type":"run.failed","payload":{}}"#;
    let bad_id = r#"{"tenant":"acme","id":"white space","type":"run.failed","payload":{}}"#;
    let not_an_object = r#"{"tenant":"acme","type":"run.failed","payload":[1]}"#;
    let batch =
        [("a", good), ("b", "not json"), ("c", unknown_type), ("d", bad_tenant), ("e", bad_id), ("f", not_an_object)];
    let failed = dispatcher.handle_batch(batch.iter().map(|(id, body)| message(id, body)).collect()).await;
    assert!(failed.is_empty(), "nothing left to retry: {failed:?}");
    let parked = dispatcher.dead_letters.receive(10, Duration::ZERO).await.unwrap();
    let mut bodies: Vec<&str> = parked.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    // An event of an unknown type is parked as read (its id, time and first message fixed),
    // so that once the type exists a redrive continues the same dispatch.
    let read_as = r#"{"kind":"event","v":1,"tenant":"acme","id":"evt-3","type":"no.such","payload":{},"received_at":"2023-11-14T22:13:20.000Z","dispatched_from":"c"}"#;
    let mut expected = vec!["not json", read_as, bad_tenant, bad_id, not_an_object];
    expected.sort();
    assert_eq!(bodies, expected);
    let unknown_type = read_as;
    // Each with its reason, for whoever looks at the DLQ.
    let reason = |body: &str| parked.iter().find(|m| m.body == body).and_then(|m| m.reason.clone()).unwrap();
    assert!(reason("not json").starts_with("malformed event message: expected"), "{}", reason("not json"));
    assert!(reason(bad_tenant).contains("invalid tenant"), "{}", reason(bad_tenant));
    assert!(reason(unknown_type).contains("type"), "{}", reason(unknown_type));
}

#[tokio::test]
async fn an_event_whose_last_receive_fails_too_is_parked_with_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let dispatcher =
        Dispatcher::new(db.store(), db.queue(settings("deliveries")), db.queue(settings("events-dlq")), Duration::ZERO);
    // The store breaks: every subscription lookup fails.
    let raw = rusqlite::Connection::open(dir.path().join("db")).unwrap();
    raw.execute_batch("DROP TABLE endpoints").unwrap();
    let body = r#"{"tenant":"acme","id":"evt-9","type":"run.failed","payload":{}}"#;
    let receive = |count: u32| ReceivedMessage { receive_count: count, ..message("m", body) };

    let failed = dispatcher.handle_batch(vec![receive(EVENT_MAX_RECEIVES - 1)]).await;
    assert_eq!(failed, ["m"], "retried while receives are left");
    assert_eq!(dispatcher.dead_letters.depth().await.unwrap(), 0);

    let failed = dispatcher.handle_batch(vec![receive(EVENT_MAX_RECEIVES)]).await;
    assert!(failed.is_empty(), "the last receive parks it: {failed:?}");
    let parked = dispatcher.dead_letters.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(parked.len(), 1);
    let reason = parked[0].reason.as_deref().unwrap();
    assert!(reason.starts_with("not dispatched in 5 receives; last error: "), "{reason}");
    assert!(reason.contains("endpoints"), "the store's error: {reason}");
    // Parked as the event it read: the same event, continuing the same dispatch.
    let envelope: serde_json::Value = serde_json::from_str(&parked[0].body).unwrap();
    assert_eq!((envelope["id"].as_str(), envelope["dispatched_from"].as_str()), (Some("evt-9"), Some("m")));
    assert_eq!(envelope["payload"], serde_json::json!({}));
    assert!(envelope["received_at"].is_string(), "{envelope}");

    // Fixed (the table is back, with an endpoint), then redriven as a new message: the event
    // was recorded by its first message, yet it fans out; a producer's duplicate does not.
    drop(raw);
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    db.store().create_endpoint(&endpoint(&["run.failed"], "{}")).await.unwrap();
    let redriven = message("redriven", &parked[0].body);
    assert_eq!(dispatch(&dispatcher, &redriven).await, 1, "the redrive dispatches it");
    assert_eq!(dispatch(&dispatcher, &message("duplicate", body)).await, 0, "a producer's duplicate");
}

#[tokio::test]
async fn an_event_sent_without_an_id_keeps_one_id_across_redeliveries() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let store = db.store();
    store.create_endpoint(&endpoint(&["run.failed"], "{}")).await.unwrap();
    let dispatcher =
        Dispatcher::new(store, db.queue(settings("deliveries")), db.queue(settings("events-dlq")), Duration::ZERO);
    let body = r#"{"tenant":"acme","type":"run.failed","payload":{"from":"another service"}}"#;
    assert_eq!(dispatch(&dispatcher, &message("direct-1", body)).await, 1);
    let first = drain(&dispatcher.deliveries).await;
    assert_eq!(dispatch(&dispatcher, &message("direct-1", body)).await, 1, "a redelivery");
    assert_eq!(drain(&dispatcher.deliveries).await, first, "the same delivery ids");
    assert_eq!(dispatch(&dispatcher, &message("direct-2", body)).await, 1, "another message, another event");
    assert_ne!(drain(&dispatcher.deliveries).await, first);
}

#[tokio::test]
async fn a_batch_fans_out_every_good_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let store = db.store();
    let subscriber = endpoint(&["run.failed"], "{}");
    store.create_endpoint(&subscriber).await.unwrap();
    let dispatcher =
        Dispatcher::new(store, db.queue(settings("deliveries")), db.queue(settings("events-dlq")), Duration::ZERO);
    let batch: Vec<ReceivedMessage> = (0..12)
        .map(|n| {
            let body = format!(r#"{{"tenant":"acme","id":"evt-b{n}","type":"run.failed","payload":{{"n":{n}}}}}"#);
            message(&format!("m{n}"), &body)
        })
        .chain([message("bad", "{")])
        .collect();
    assert!(dispatcher.handle_batch(batch).await.is_empty(), "the bad one went to the DLQ");
    assert_eq!(drain(&dispatcher.deliveries).await.len(), 12, "one delivery per event, none lost in the batching");
}

#[tokio::test]
async fn cached_subscriptions_are_reused_until_an_endpoint_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let store = db.store();
    let first = endpoint(&["run.failed"], "{}");
    store.create_endpoint(&first).await.unwrap();
    let dispatcher = Dispatcher::new(
        store,
        db.queue(settings("deliveries")),
        db.queue(settings("events-dlq")),
        Duration::from_secs(60),
    );
    let event = |n: u32| format!(r#"{{"tenant":"acme","id":"evt-c{n}","type":"run.failed","payload":{{}}}}"#);

    assert_eq!(dispatch(&dispatcher, &message("c1", &event(1))).await, 1);
    // Disabled behind the store's back, so the version does not move: the cache answers.
    let raw = rusqlite::Connection::open(dir.path().join("db")).unwrap();
    raw.execute("UPDATE endpoints SET enabled = 0 WHERE id = ?1", [first.id.as_str()]).unwrap();
    assert_eq!(dispatch(&dispatcher, &message("c2", &event(2))).await, 1, "the cached lookup");
    // A new endpoint moves the version: the next event sees both changes.
    let second = endpoint(&["run.failed"], "{}");
    dispatcher.store.create_endpoint(&second).await.unwrap();
    assert_eq!(drain(&dispatcher.deliveries).await.len(), 2);
    assert_eq!(dispatch(&dispatcher, &message("c3", &event(3))).await, 1, "looked up again");
    assert_eq!(drain(&dispatcher.deliveries).await[0].1, second.id.to_string());
    // So does a delete.
    dispatcher.store.delete_endpoint("acme", &second.id).await.unwrap();
    assert_eq!(dispatch(&dispatcher, &message("c4", &event(4))).await, 0);
}

/// The SQLite queue, recording how many bodies each send carried, failing the sends whose
/// number (from 1) is in `failing`.
#[derive(Clone)]
struct RecordingQueue {
    inner: SqliteQueue,
    sends: Arc<Mutex<Vec<usize>>>,
    failing: &'static [usize],
}

impl Queue for RecordingQueue {
    async fn send_batch(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        let number = {
            let mut sends = self.sends.lock().unwrap();
            sends.push(bodies.len());
            sends.len()
        };
        if self.failing.contains(&number) {
            return Err(QueueError::Backend("unreachable".into()));
        }
        self.inner.send_batch(bodies).await
    }
    async fn send_delayed(&self, body: String, delay: Duration) -> Result<(), QueueError> {
        self.inner.send_delayed(body, delay).await
    }
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        self.inner.receive(max, wait).await
    }
    async fn park(&self, body: String, reason: &str) -> Result<(), QueueError> {
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

#[tokio::test]
async fn a_batch_goes_out_as_it_fans_out_and_a_failed_send_fails_only_its_events() {
    const ENDPOINTS: usize = 30;
    for failing in [&[][..], &[2][..]] {
        let dir = tempfile::tempdir().unwrap();
        let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
        let store = db.store();
        for _ in 0..ENDPOINTS {
            store.create_endpoint(&endpoint(&["run.failed"], "{}")).await.unwrap();
        }
        let queue = |name| RecordingQueue { inner: db.queue(settings(name)), sends: Arc::default(), failing };
        let dispatcher = Dispatcher::new(store, queue("deliveries"), queue("events-dlq"), Duration::ZERO);
        let batch: Vec<ReceivedMessage> = (0..10)
            .map(|n| {
                let body = format!(r#"{{"tenant":"acme","id":"evt-s{n}","type":"run.failed","payload":{{}}}}"#);
                message(&format!("m{n}"), &body)
            })
            .collect();
        let failed = dispatcher.handle_batch(batch).await;
        let sends = dispatcher.deliveries.sends.lock().unwrap().clone();
        assert_eq!(sends.iter().sum::<usize>(), 10 * ENDPOINTS, "every delivery was sent once: {sends:?}");
        assert!(sends.len() >= 3, "not held until the end: {sends:?}");
        assert!(sends.iter().all(|&n| n < SEND_AT + ENDPOINTS), "never more than one event past the mark: {sends:?}");
        let enqueued = dispatcher.deliveries.depth().await.unwrap() as usize;
        match failing {
            [] => assert!(failed.is_empty() && enqueued == 10 * ENDPOINTS, "{failed:?}, {enqueued}"),
            _ => {
                assert_eq!(failed.len() * ENDPOINTS, sends[1], "the events of the failed send, and only those");
                assert_eq!(enqueued, 10 * ENDPOINTS - sends[1]);
            }
        }
    }
}

/// Events sent straight to the queue meet the tenant's own types as `POST /v1/events` does:
/// a payload its schema refuses is parked with the failing path, an unknown type is parked
/// unless the deployment accepts them (then `*` subscribers get it).
#[tokio::test]
async fn the_tenants_types_and_their_schemas_hold_on_the_queue_path() {
    use webhooks::events::store::EventTypeStore;
    use webhooks::events::types::EventTypeDef;

    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let store = db.store();
    let now = Timestamp::now();
    let invoice = EventTypeDef {
        tenant: "acme".into(),
        name: "invoice.paid".into(),
        description: String::new(),
        family: None,
        schema: Some(
            serde_json::json!({"type": "object", "required": ["amount"], "properties": {"amount": {"type": "integer"}}}),
        ),
        archived: false,
        created_at: now,
        updated_at: now,
        version: 0,
    };
    store.create_event_type(&invoice).await.unwrap();
    store.create_endpoint(&endpoint(&["*"], "{}")).await.unwrap();
    let strict =
        Dispatcher::new(store.clone(), db.queue(settings("deliveries")), db.queue(settings("dlq")), Duration::ZERO);
    let good = r#"{"tenant":"acme","id":"i1","type":"invoice.paid","payload":{"amount":5}}"#;
    let bad = r#"{"tenant":"acme","id":"i2","type":"invoice.paid","payload":{"amount":"5"}}"#;
    let unknown = r#"{"tenant":"acme","id":"i3","type":"invoice.voided","payload":{}}"#;
    let failed = strict.handle_batch(vec![message("a", good), message("b", bad), message("c", unknown)]).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(drain(&strict.deliveries).await.len(), 1, "only the valid one is fanned out");
    let parked = strict.dead_letters.receive(10, Duration::ZERO).await.unwrap();
    let reason = |id: &str| parked.iter().find(|m| m.body.contains(id)).and_then(|m| m.reason.clone()).unwrap();
    assert!(reason("i2").contains("payload/amount: "), "{}", reason("i2"));
    assert!(reason("i3").contains("unknown event type \"invoice.voided\""), "{}", reason("i3"));

    let lenient = Dispatcher::new(store, db.queue(settings("deliveries")), db.queue(settings("dlq")), Duration::ZERO)
        .accepting_unknown_types(true);
    let other = r#"{"tenant":"acme","id":"i4","type":"invoice.voided","payload":{}}"#;
    assert_eq!(dispatch(&lenient, &message("d", other)).await, 1, "the * subscriber gets the unknown type");
    // The schema still holds for the tenant's own types.
    let bad_again = r#"{"tenant":"acme","id":"i5","type":"invoice.paid","payload":{}}"#;
    assert_eq!(dispatch(&lenient, &message("e", bad_again)).await, 0);
}
