//! The dispatcher over a real SQLite store and queue.

use std::collections::BTreeMap;
use std::time::Duration;

use webhooks::adapters::sqlite::{QueueSettings, SqliteDatabase, SqliteQueue};
use webhooks::messages::DeliveryMessage;
use webhooks::model::{Endpoint, EntityId, Secret};
use webhooks::ports::{Queue, ReceivedMessage, Store};
use webhooks::time::Timestamp;
use webhooks_dispatcher::{DispatchError, Dispatcher};

fn settings(name: &str) -> QueueSettings {
    QueueSettings {
        name: name.into(),
        visibility_timeout: Duration::from_secs(30),
        max_receive_count: None,
        dead_letter_queue: None,
    }
}

fn endpoint(events: &[&str], filters: BTreeMap<String, Vec<EntityId>>) -> Endpoint {
    Endpoint {
        event_filters: filters,
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
    }
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
    let matching = endpoint(&["run.*"], BTreeMap::new());
    let filtered_in = endpoint(&["run.failed"], BTreeMap::from([("run.failed".into(), vec![EntityId::Number(7)])]));
    let filtered_out = endpoint(&["run.failed"], BTreeMap::from([("run.failed".into(), vec![EntityId::Number(8)])]));
    let other_type = endpoint(&["agent.created"], BTreeMap::new());
    for e in [&matching, &filtered_in, &filtered_out, &other_type] {
        store.create_endpoint(e).await.unwrap();
    }
    let dispatcher = Dispatcher { store, deliveries: db.queue(settings("deliveries")) };
    let body = r#"{"tenant":"acme","id":"evt-1","type":"run.failed","entity_id":"7","payload":{"x":1}}"#;

    assert_eq!(dispatcher.handle_message(&message("m1", body)).await.unwrap(), 2);
    let first = drain(&dispatcher.deliveries).await;
    let mut expected = vec![matching.id.to_string(), filtered_in.id.to_string()];
    expected.sort();
    let mut endpoints: Vec<String> = first.iter().map(|(_, e)| e.clone()).collect();
    endpoints.sort();
    assert_eq!(endpoints, expected);

    // The same message again (a redelivery after a crash): the same delivery ids.
    assert_eq!(dispatcher.handle_message(&message("m1", body)).await.unwrap(), 2);
    assert_eq!(drain(&dispatcher.deliveries).await, first);

    // The same event id in another message (a producer's retry): nothing more.
    assert_eq!(dispatcher.handle_message(&message("m2", body)).await.unwrap(), 0);
    assert!(drain(&dispatcher.deliveries).await.is_empty());
}

#[tokio::test]
async fn a_batch_reports_only_its_bad_messages() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let dispatcher = Dispatcher { store: db.store(), deliveries: db.queue(settings("deliveries")) };
    let good = r#"{"tenant":"acme","id":"evt-2","type":"run.failed","payload":{}}"#;
    let unknown_type = r#"{"tenant":"acme","id":"evt-3","type":"no.such","payload":{}}"#;
    assert!(matches!(dispatcher.handle_message(&message("u", unknown_type)).await, Err(DispatchError::Malformed(_))));
    let mut failed =
        dispatcher.handle_batch(vec![message("a", good), message("b", "not json"), message("c", unknown_type)]).await;
    failed.sort();
    assert_eq!(failed, ["b", "c"]);
}
