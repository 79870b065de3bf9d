//! Recovering an endpoint (`POST /v1/webhooks/{id}/recover`): its failed deliveries since a
//! time go out again, each once, in a background job; asked twice at once, still once each;
//! on the embedded service and on `serve --aws`. The job's paging runs here on real SQLite.

use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Value, json};
use webhooks::deliveries::store::DeliveryStore;
use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::Event;
use webhooks::events::store::EventStore;
use webhooks::ids::DeliveryId;
use webhooks::ports::SystemClock;
use webhooks::queues::Queue;
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_pipeline::services::recover::{RecoverJob, recover_page};
use webhooks_sqlite::SqliteDatabase;
use webhooks_tests::{Api, Binary, Receiver, Service, fast_policy};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_since_a_time_are_resent_once_each() {
    let service = Service::start_with(|config| config.settings.policy = fast_policy(0)).await;
    recover(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_failed_deliveries_since_a_time_are_resent_once_each() {
    let (_data, service) = Binary::serve_on_aws("recover", &["--retry-schedule", ""]);
    recover(&service.api).await;
}

async fn failed(api: &Api, id: &str, count: usize) -> Value {
    let path = format!("/v1/webhooks/{id}/deliveries?status=failed");
    api.wait_until(&path, WAIT, |b| b["data"].as_array().unwrap().len() == count).await
}

async fn recover(api: &Api) {
    let receiver = Receiver::start().await;
    receiver.always(500);
    let id = api.create_endpoint(&receiver.url("/"), &["run.failed"]).await["id"].as_str().unwrap().to_owned();
    api.send_events(json!({"type": "run.failed", "payload": {"n": 0}})).await;
    failed(api, &id, 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let since = Timestamp::now().to_rfc3339();
    api.send_events(json!({"events": [
        {"type": "run.failed", "payload": {"n": 1}},
        {"type": "run.failed", "payload": {"n": 2}}
    ]}))
    .await;
    failed(api, &id, 3).await;
    receiver.wait_for(3, WAIT).await;

    // Asked twice at once: two jobs, each delivery sent once.
    receiver.always(200);
    let path = format!("/v1/webhooks/{id}/recover");
    for _ in 0..2 {
        let queued = api.post(&path, json!({"since": since})).await;
        assert_eq!(queued.status, 202, "{:?}", queued.body);
        assert_eq!(queued.body["status"], "queued");
        assert_eq!(queued.body["endpoint_id"], id.as_str());
    }
    let got = receiver.wait_for(5, WAIT).await;
    let mut resent: Vec<u64> = got[3..].iter().map(|request| request.json()["n"].as_u64().unwrap()).collect();
    resent.sort();
    assert_eq!(resent, [1, 2], "the failed deliveries since the time, not the one before");
    receiver.assert_stays_at(5, Duration::from_millis(2000)).await;
    let delivered = api.get(&format!("/v1/webhooks/{id}/deliveries?status=delivered")).await;
    assert_eq!(delivered.body["data"].as_array().unwrap().len(), 2);
    assert!(delivered.body["data"].as_array().unwrap().iter().all(|d| d["attempts"] == 2));
    let before = failed(api, &id, 1).await;
    assert_eq!(before["data"][0]["attempts"], 1, "the earlier one was left alone");

    // Bad asks: a clear 400 or 404, and no job.
    let invalid = [
        json!({}),
        json!({"since": "yesterday"}),
        json!({"since": since, "until": since}),
        json!({"since": since, "extra": 1}),
    ];
    for body in invalid {
        let reply = api.post(&path, body.clone()).await;
        assert_eq!((reply.status, &reply.body["error"]["code"]), (400, &json!("validation_error")), "{body}");
    }
    let other = api.with_key(&api.mint_key("other", &["webhooks:write"]).await);
    assert_eq!(other.post(&path, json!({"since": since})).await.status, 404, "another tenant's endpoint");
    let reader = api.with_key(&api.mint_key("acme", &["webhooks:read"]).await);
    assert_eq!(reader.post(&path, json!({"since": since})).await.status, 403);
    receiver.assert_stays_at(5, Duration::from_millis(500)).await;
}

/// A window larger than a page is worked through page by page, down to `since` and not past
/// it; each failed delivery is queued once, and the job done again resends nothing.
#[tokio::test]
async fn a_job_pages_down_to_since() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDatabase::open(&dir.path().join("db")).unwrap();
    let store = db.store();
    let queue = db.queue(webhooks_sqlite::QueueSettings {
        name: "deliveries".into(),
        visibility_timeout: Duration::from_secs(30),
        max_receive_count: None,
        dead_letter_queue: None,
    });
    let endpoint = Endpoint::new(
        "acme".into(),
        "https://example.com/".into(),
        vec!["run.failed".into()],
        Secret::new("s"),
        Timestamp::now(),
    );
    store.create_endpoint(&endpoint).await.unwrap();
    let start = Timestamp::now().minus(Duration::from_secs(60));
    for n in 0..7 {
        let at = start.plus(Duration::from_secs(n));
        let event = Event {
            tenant: "acme".into(),
            id: format!("evt-{n}"),
            event_type: "run.failed".into(),
            entity_id: None,
            payload: RawValue::from_string(format!("{{\"n\":{n}}}")).unwrap(),
            created_at: at,
        };
        store.record_event(&event, &format!("m{n}")).await.unwrap();
        let delivery = Delivery {
            id: DeliveryId::for_event("acme", &event.id, &endpoint.id, at),
            tenant: "acme".into(),
            endpoint_id: endpoint.id.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            status: DeliveryStatus::Failed,
            http_status: Some(500),
            attempts: 1,
            created_at: at,
            delivered_at: None,
            next_retry_at: None,
            last_error: Some("receiver answered HTTP 500".into()),
        };
        let attempt = Attempt { at, duration_ms: 1, http_status: Some(500), response_body: None, error: None };
        store.save_delivery(&delivery, Some(&attempt)).await.unwrap();
    }

    // Events 2..=6 are in the window; pages of 2 take three messages.
    let mut job = Some(RecoverJob::new("acme", &endpoint.id, start.plus(Duration::from_secs(2)), None));
    let (mut pages, mut resent) = (0, 0);
    while let Some(current) = job {
        let step = recover_page(&store, &queue, &SystemClock, &current, 2).await.unwrap();
        pages += 1;
        resent += step.resent;
        job = step.next;
    }
    assert_eq!((pages, resent), (3, 5));
    // Done again (a message received twice), the job finds nothing left to resend.
    let again = RecoverJob::new("acme", &endpoint.id, start.plus(Duration::from_secs(2)), None);
    assert_eq!(recover_page(&store, &queue, &SystemClock, &again, 2).await.unwrap().resent, 0);
    let queued = queue.receive(10, Duration::ZERO).await.unwrap();
    let mut events: Vec<String> = queued
        .iter()
        .map(|m| serde_json::from_str::<Value>(&m.body).unwrap()["event_id"].as_str().unwrap().to_owned())
        .collect();
    events.sort();
    assert_eq!(events, ["evt-2", "evt-3", "evt-4", "evt-5", "evt-6"]);
}
