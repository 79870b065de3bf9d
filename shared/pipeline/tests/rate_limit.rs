//! A rate-limited delivery goes out only within the second it was counted in: a count that
//! ends in a later second (a slow counter) defers it, unattempted, instead of sending it then.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde_json::value::RawValue;
use webhooks::deliveries::outbound::{HttpOutcome, HttpSender, OutboundRequest};
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::ids::DeliveryId;
use webhooks::ports::Clock;
use webhooks::queues::messages::DeliveryMessage;
use webhooks::queues::{Queue, ReceivedMessage};
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_pipeline::sender::{SendOutcome, Sender};
use webhooks_sqlite::{QueueSettings, SqliteDatabase};

/// Answers 200; counts what it was asked to send.
#[derive(Default)]
struct CountingHttp {
    sent: Mutex<usize>,
}

impl HttpSender for CountingHttp {
    async fn post(&self, _: OutboundRequest) -> HttpOutcome {
        *self.sent.lock().unwrap() += 1;
        HttpOutcome { status: Some(200), body: None, error: None, duration: Duration::ZERO, retry_after: None }
    }
}

/// A clock that moves on by `step_ms` at every reading, from the last millisecond of a second.
struct SteppingClock {
    next_ms: AtomicI64,
    step_ms: i64,
}

impl Clock for SteppingClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.next_ms.fetch_add(self.step_ms, Ordering::SeqCst))
    }
}

async fn outcome_with_clock(step_ms: i64) -> (SendOutcome, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let store = db.store();
    let now = Timestamp::now();
    let endpoint = Endpoint {
        rate_limit: Some(10),
        ..Endpoint::new(
            "acme".into(),
            "https://example.com/hook".into(),
            vec!["*".into()],
            Secret::new("k".repeat(24)),
            now,
        )
    };
    store.create_endpoint(&endpoint).await.unwrap();
    let queue = db.queue(QueueSettings {
        name: "deliveries".into(),
        visibility_timeout: Duration::from_secs(60),
        max_receive_count: None,
        dead_letter_queue: None,
    });
    let payload = RawValue::from_string(r#"{"n":1}"#.into()).unwrap();
    let body = serde_json::to_string(&DeliveryMessage {
        id: DeliveryId::for_event("acme", "evt-1", &endpoint.id, now),
        tenant: "acme".into(),
        endpoint_id: endpoint.id.clone(),
        event_id: "evt-1".into(),
        event_type: "run.failed".into(),
        created_at: now,
        payload: Some(&payload),
        attempts_before: 0,
        deferrals: 0,
        resend_after: None,
        traceparent: None,
    })
    .unwrap();
    let message = ReceivedMessage {
        message_id: "m1".into(),
        receipt: "r1".into(),
        body,
        receive_count: 1,
        sent_at: now,
        reason: None,
    };
    let clock = SteppingClock { next_ms: AtomicI64::new((now.unix_seconds() + 1) * 1000 - 1), step_ms };
    let sender = Sender::new(store, queue.clone(), CountingHttp::default(), clock, DeliveryPolicy::default());
    let outcome = sender.handle_message(&message).await.unwrap();
    let requeued = queue.receive(10, Duration::from_secs(2)).await.unwrap().len();
    let sent = *sender.http.sent.lock().unwrap();
    (outcome, sent, requeued)
}

#[tokio::test]
async fn a_count_that_ends_in_the_next_second_defers_the_delivery() {
    assert_eq!(outcome_with_clock(0).await, (SendOutcome::Delivered, 1, 0), "counted and sent in one second");
    assert_eq!(
        outcome_with_clock(1000).await,
        (SendOutcome::Deferred, 0, 1),
        "the count ended a second later: not sent, sent again for later"
    );
}
