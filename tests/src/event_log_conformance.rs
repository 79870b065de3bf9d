//! The event log's contract (events read back, and an event's deliveries), run against
//! every adapter by `conformance::store`.

use serde_json::value::RawValue;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::deliveries::{Delivery, DeliveryStatus};
use webhooks::events::store::{EventCursor, EventQuery, EventStore};
use webhooks::events::{EntityId, Event};
use webhooks::ids::{DeliveryId, EndpointId};
use webhooks::pagination::decode_cursor;
use webhooks::time::Timestamp;

pub fn event(tenant: &str, id: &str, event_type: &str, at: Timestamp) -> Event {
    Event {
        tenant: tenant.to_owned(),
        id: id.to_owned(),
        event_type: event_type.to_owned(),
        entity_id: Some(EntityId::Number(7)),
        payload: RawValue::from_string(format!(r#"{{"id": "{id}"}}"#)).unwrap(),
        created_at: at,
    }
}

pub fn delivery(event: &Event, endpoint: &EndpointId) -> Delivery {
    Delivery {
        id: DeliveryId::for_event(&event.tenant, &event.id, endpoint, event.created_at),
        tenant: event.tenant.clone(),
        endpoint_id: endpoint.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        status: DeliveryStatus::Pending,
        http_status: None,
        attempts: 0,
        created_at: event.created_at,
        delivered_at: None,
        next_retry_at: None,
        last_error: None,
    }
}

/// Events read back whole by id, listed newest first (time, then id) by type and time, in
/// pages; an event's deliveries found among others of the same millisecond.
pub async fn event_log<S: EventStore + DeliveryStore>(store: &S) {
    let t0 = Timestamp::now();
    let t1 = t0.plus(std::time::Duration::from_millis(5));
    let tenant = format!("l{}", t0.as_millis());
    let events = [
        event(&tenant, "a:1", "run.failed", t0),
        event(&tenant, "b-2", "run.completed", t1),
        event(&tenant, "c.3", "run.failed", t1),
    ];
    for e in &events {
        store.record_event(e, &format!("m-{}", e.id)).await.unwrap();
    }
    store.record_event(&event(&format!("{tenant}x"), "z", "run.failed", t1), "m-z").await.unwrap();

    let read = store.get_event(&tenant, "a:1").await.unwrap().expect("recorded");
    assert_eq!(
        (read.event_type.as_str(), read.created_at, read.entity_id),
        ("run.failed", t0, Some(EntityId::Number(7)))
    );
    assert_eq!(read.payload.get(), r#"{"id": "a:1"}"#);
    assert!(store.get_event(&tenant, "z").await.unwrap().is_none(), "another tenant's");
    assert!(store.get_event(&tenant, "nope").await.unwrap().is_none());

    let ids = |page: &webhooks::ports::Page<webhooks::events::store::EventSummary>| {
        page.items.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    };
    let query = |limit: usize| EventQuery { limit, ..EventQuery::default() };
    let all = store.list_events(&tenant, &query(10)).await.unwrap();
    assert_eq!(ids(&all), ["c.3", "b-2", "a:1"]);
    assert!(all.next_cursor.is_none());
    assert_eq!(all.items[2].created_at, t0);

    // Pages of one, each after the cursor of the one before.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.list_events(&tenant, &EventQuery { before: before.clone(), ..query(1) }).await.unwrap();
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(cursor) => before = EventCursor::parse(&decode_cursor(&cursor).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, ["c.3", "b-2", "a:1"]);

    let failed = EventQuery { event_type: Some("run.failed".into()), ..query(10) };
    assert_eq!(ids(&store.list_events(&tenant, &failed).await.unwrap()), ["c.3", "a:1"]);
    let since = EventQuery { since: Some(t1), ..query(10) };
    assert_eq!(ids(&store.list_events(&tenant, &since).await.unwrap()), ["c.3", "b-2"]);
    let since_after =
        EventQuery { since: Some(t1), before: Some(EventCursor { created_at: t1, id: "c.3".into() }), ..query(10) };
    assert_eq!(ids(&store.list_events(&tenant, &since_after).await.unwrap()), ["b-2"]);

    // An event's deliveries, not those of another event received in the same millisecond.
    let (first, second) = (EndpointId::generate(t0), EndpointId::generate(t1));
    for (e, endpoint) in [(&events[1], &second), (&events[1], &first), (&events[2], &first)] {
        store.save_delivery(&delivery(e, endpoint), None).await.unwrap();
    }
    let found = store.event_deliveries(&tenant, "b-2", t1).await.unwrap();
    let endpoints: Vec<&EndpointId> = found.iter().map(|d| &d.endpoint_id).collect();
    assert_eq!(endpoints, [&first, &second], "one per endpoint, oldest endpoint first");
    assert!(found.iter().all(|d| d.event_id == "b-2"));
    assert!(store.event_deliveries(&tenant, "a:1", t0).await.unwrap().is_empty());
    assert!(store.event_deliveries(&format!("{tenant}x"), "b-2", t1).await.unwrap().is_empty());
}
