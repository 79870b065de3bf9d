//! Retention on the embedded backend: what is older than the retention is pruned, as
//! DynamoDB's TTL does on AWS, in small transactions that do not stall other writes.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;
use serde_json::value::RawValue;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::Event;
use webhooks::events::store::EventStore;
use webhooks::ids::DeliveryId;
use webhooks::ports::StoreError;
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_sqlite::{PRUNE_BATCH, Pruned, SqliteDatabase, prune_interval};
use webhooks_tests::{Receiver, Service, data_dir};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn event(tenant: &str, id: &str, at: Timestamp) -> Event {
    Event {
        tenant: tenant.into(),
        id: id.into(),
        event_type: "run.failed".into(),
        entity_id: None,
        payload: RawValue::from_string(r#"{"k":1}"#.into()).unwrap(),
        created_at: at,
    }
}

fn delivery(endpoint: &Endpoint, event_id: &str, at: Timestamp) -> Delivery {
    Delivery {
        id: DeliveryId::for_event(&endpoint.tenant, event_id, &endpoint.id, at),
        tenant: endpoint.tenant.clone(),
        endpoint_id: endpoint.id.clone(),
        event_id: event_id.into(),
        event_type: "run.failed".into(),
        status: DeliveryStatus::Delivered,
        http_status: Some(200),
        attempts: 0,
        created_at: at,
        delivered_at: Some(at),
        next_retry_at: None,
        last_error: None,
    }
}

fn attempt(at: Timestamp) -> Attempt {
    Attempt { at, duration_ms: 1, http_status: Some(200), response_body: None, error: None }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_older_than_the_retention_is_pruned_without_stalling_writes() {
    let dir = data_dir();
    let db = SqliteDatabase::open(&dir.path().join("db.sqlite3")).unwrap();
    let store = db.store();
    let now = Timestamp::now();
    let (old, recent) = (now.minus(40 * DAY), now.minus(DAY));
    let endpoint =
        Endpoint::new("acme".into(), "https://example.com/".into(), vec!["*".into()], Secret::new("s".repeat(32)), old);
    store.create_endpoint(&endpoint).await.unwrap();

    const OLD: usize = 5_000;
    let started = Instant::now();
    join_all((0..OLD).map(|i| {
        let (store, endpoint) = (store.clone(), endpoint.clone());
        async move {
            let id = format!("old-{i}");
            store.record_event(&event("acme", &id, old), "m").await.unwrap();
            store.save_delivery(&delivery(&endpoint, &id, old), Some(&attempt(old))).await.unwrap();
        }
    }))
    .await;
    println!("{OLD} old events and deliveries written in {:?}", started.elapsed());
    store.record_event(&event("acme", "recent", recent), "m").await.unwrap();
    let kept = delivery(&endpoint, "recent", recent);
    store.save_delivery(&kept, Some(&attempt(recent))).await.unwrap();

    // Pruning runs while another task keeps writing; its writes must stay quick.
    let writer = {
        let (store, endpoint) = (store.clone(), endpoint.clone());
        tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            for i in 0..200 {
                let started = Instant::now();
                store.save_delivery(&delivery(&endpoint, &format!("live-{i}"), now), None).await.unwrap();
                slowest = slowest.max(started.elapsed());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            slowest
        })
    };
    let started = Instant::now();
    let pruned = db.prune(now.minus(30 * DAY)).await.unwrap();
    let took = started.elapsed();
    let slowest = writer.await.unwrap();
    println!(
        "pruned {} deliveries (with their attempts) and {} events in {took:?}, {PRUNE_BATCH} a transaction; \
         slowest concurrent write {slowest:?}",
        pruned.deliveries, pruned.events
    );
    assert_eq!(pruned, Pruned { events: OLD, deliveries: OLD });

    let gone = DeliveryId::for_event("acme", "old-7", &endpoint.id, old);
    assert!(matches!(store.get_delivery("acme", &endpoint.id, &gone).await, Err(StoreError::NotFound)));
    let detail = store.get_delivery("acme", &endpoint.id, &kept.id).await.unwrap();
    assert_eq!((detail.attempts.len(), detail.payload.is_some()), (1, true), "recent ones stay whole");
    assert!(store.get_endpoint("acme", &endpoint.id).await.is_ok(), "endpoints are not subject to retention");
    assert_eq!(db.prune(now.minus(30 * DAY)).await.unwrap(), Pruned::default(), "nothing left to prune");
    assert_eq!(prune_interval(30 * DAY), Duration::from_secs(60));
}

/// `serve` enforces the retention by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prunes_in_the_background() {
    let service = Service::start_with(|config| config.settings.retention = Duration::from_secs(2)).await;
    let receiver = Receiver::start().await;
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let id = created["id"].as_str().unwrap();
    service.api.send_events(json!({"type": "run.failed", "payload": {"n": 1}})).await;
    let history = format!("/v1/webhooks/{id}/deliveries");
    let listed =
        service.api.wait_until(&history, Duration::from_secs(10), |b| b["data"][0]["status"] == "delivered").await;
    let delivery = format!("{history}/{}", listed["data"][0]["id"].as_str().unwrap());
    service.api.wait_until(&history, Duration::from_secs(10), |b| b["data"].as_array().unwrap().is_empty()).await;
    assert_eq!(service.api.get(&delivery).await.status, 404);
    assert_eq!(service.api.get(&format!("/v1/webhooks/{id}")).await.status, 200);
}
