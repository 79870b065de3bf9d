//! The port contracts, written once as generic checks. Every adapter runs the same suite, so
//! the embedded backend cannot drift from the AWS one.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::value::RawValue;
use webhooks::backend::Store;
use webhooks::deliveries::rate_limit::RateCounter;
use webhooks::deliveries::store::DeliveryQuery;
use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::rules::MAX_SUBSCRIPTIONS;
use webhooks::endpoints::store::{EndpointQuery, EndpointStore};
use webhooks::events::store::{EventRecord, EventStore};
use webhooks::events::{EntityId, Event};
use webhooks::ids::{ApiKeyId, DeliveryId, EndpointId};
use webhooks::pagination::decode_cursor;
use webhooks::ports::StoreError;
use webhooks::queues::{MAX_REASON_BYTES, Queue};
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::security::api_keys::{ApiKey, Scope};
use webhooks::security::api_keys::{hash_key, mint};
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;

fn endpoint(tenant: &str, events: &[&str]) -> Endpoint {
    Endpoint {
        // Both kinds of filter, and every kind of value, come back as they were stored.
        event_filters: serde_json::from_str(
            r#"{"run.failed": [7, "pg_1"], "run.*": {"status": ["failed", 2, 1.5, true, null], "tool.id": ["t_1"]}}"#,
        )
        .expect("filters"),
        description: Some("conformance".into()),
        headers: BTreeMap::from([("X-Team".to_owned(), "core".to_owned())]),
        metadata: BTreeMap::from([
            ("customer".to_owned(), "Acme GmbH".to_owned()),
            ("plan".to_owned(), "pro".to_owned()),
        ]),
        rate_limit: Some(25),
        ..Endpoint::new(
            tenant.to_owned(),
            "https://example.com/hook".into(),
            events.iter().map(|e| e.to_string()).collect(),
            Secret::new("s".repeat(32)),
            Timestamp::now(),
        )
    }
}

/// Every store check, in turn.
pub async fn store<S: Store>(store: &S) {
    endpoints(store).await;
    crate::uid_conformance::endpoint_uids(store).await;
    subscription_limit(store).await;
    endpoint_pages(store).await;
    failure_counter(store).await;
    disabled_count(store).await;
    events(store).await;
    deliveries(store).await;
    delivery_pages(store).await;
    api_keys(store).await;
    crate::event_type_conformance::event_types(store).await;
    crate::event_log_conformance::event_log(store).await;
    crate::idempotency_conformance::idempotency(store).await;
    crate::stats_conformance::delivery_counts(store).await;
    crate::portal_session_conformance::portal_sessions(store).await;
}

/// API keys: a conditional create, found by hash, listed per tenant or all, deleted at once
/// (the very next lookup misses), and each method's failure.
pub async fn api_keys<S: ApiKeyStore>(store: &S) {
    let now = Timestamp::now();
    let (tenant, other) = (format!("k{}", now.as_millis()), format!("k{}-other", now.as_millis()));
    let key = |tenant: &str, name: &str| mint(tenant.to_owned(), name.to_owned(), vec![Scope::WebhooksRead], now, None);
    let (first, second, elsewhere) = (key(&tenant, "first"), key(&tenant, "second"), key(&other, "elsewhere"));
    for minted in [&first, &second, &elsewhere] {
        store.create_api_key(&minted.record, &minted.key_hash).await.unwrap();
    }
    let again = store.create_api_key(&first.record, &first.key_hash).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    assert_eq!(store.find_api_key(&first.key_hash).await.unwrap(), Some(first.record.clone()));
    assert_eq!(store.find_api_key(&hash_key("whk_not_a_key")).await.unwrap(), None);

    let names = |keys: Vec<ApiKey>| keys.into_iter().map(|k| k.name).collect::<Vec<_>>();
    assert_eq!(names(store.list_api_keys(Some(&tenant)).await.unwrap()), ["first", "second"], "oldest first");
    assert_eq!(names(store.list_api_keys(Some(&other)).await.unwrap()), ["elsewhere"]);
    let all = names(store.list_api_keys(None).await.unwrap());
    assert!(["first", "second", "elsewhere"].iter().all(|n| all.contains(&n.to_string())), "{all:?}");

    // Deleted right after it was created: the listing index may lag; the delete must not.
    store.delete_api_key(&second.record.id).await.unwrap();
    assert_eq!(store.find_api_key(&second.key_hash).await.unwrap(), None, "revoked at once");
    assert_eq!(names(store.list_api_keys(Some(&tenant)).await.unwrap()), ["first"]);
    assert!(matches!(store.delete_api_key(&second.record.id).await, Err(StoreError::NotFound)));
    assert!(matches!(store.delete_api_key(&ApiKeyId::generate(now)).await, Err(StoreError::NotFound)));
    for minted in [&first, &elsewhere] {
        store.delete_api_key(&minted.record.id).await.unwrap();
    }
}

/// Endpoints: conditional create, tenant scoping, versioned update, subscriptions, delete.
pub async fn endpoints<S: EndpointStore>(store: &S) {
    let tenant = format!("t{}", Timestamp::now().as_millis());
    let mut first = endpoint(&tenant, &["run.*"]);
    let mut version = store.subscriptions_version(&tenant).await.unwrap();
    let mut moved = async || {
        let now = store.subscriptions_version(&tenant).await.unwrap();
        let changed = now != version;
        version = now;
        changed
    };
    store.create_endpoint(&first).await.unwrap();
    assert!(moved().await, "a create moves the subscriptions version");
    assert!(matches!(store.create_endpoint(&first).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_endpoint(&tenant, &first.id).await.unwrap(), first);
    assert_eq!(store.get_endpoint("someone-else", &first.id).await, Err(StoreError::NotFound));

    let subscribed = store.subscribed_endpoints(&tenant, "run.failed").await.unwrap();
    assert_eq!(subscribed.iter().map(|e| &e.id).collect::<Vec<_>>(), [&first.id]);
    assert!(store.subscribed_endpoints(&tenant, "agent.created").await.unwrap().is_empty());
    assert!(store.subscribed_endpoints("someone-else", "run.failed").await.unwrap().is_empty());

    first.events = vec!["agent.created".into(), "*".into()];
    let updated = store.update_endpoint(&first).await.unwrap();
    assert!(moved().await, "an update moves it");
    assert_eq!(updated.version, first.version + 1);
    let stale = store.update_endpoint(&first).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "a stale version is refused");
    assert_eq!(store.subscribed_endpoints(&tenant, "playground.created").await.unwrap().len(), 1, "via *");
    let once = store.subscribed_endpoints(&tenant, "agent.created").await.unwrap();
    assert_eq!(once.len(), 1, "an endpoint matching twice is listed once");

    let mut disabled = updated.clone();
    disabled.enabled = false;
    store.update_endpoint(&disabled).await.unwrap();
    let still = store.subscribed_endpoints(&tenant, "agent.created").await.unwrap();
    assert_eq!(still.iter().map(|e| e.enabled).collect::<Vec<_>>(), [false], "disabled ones are listed, as such");
    assert!(moved().await, "a disable moves it");
    assert!(!moved().await, "reading does not");

    store.delete_endpoint(&tenant, &first.id).await.unwrap();
    assert!(moved().await, "a delete moves it");
    assert_eq!(store.delete_endpoint(&tenant, &first.id).await, Err(StoreError::NotFound));
    assert_eq!(store.get_endpoint(&tenant, &first.id).await, Err(StoreError::NotFound));
}

/// An endpoint at the subscription limit can be created and have every subscription replaced.
pub async fn subscription_limit<S: EndpointStore>(store: &S) {
    let tenant = format!("s{}", Timestamp::now().as_millis());
    let patterns = |family: &str| (0..MAX_SUBSCRIPTIONS).map(|n| format!("{family}{n}.done")).collect::<Vec<_>>();
    let mut e = endpoint(&tenant, &[]);
    e.events = patterns("old");
    store.create_endpoint(&e).await.unwrap();
    e.events = patterns("new");
    store.update_endpoint(&e).await.unwrap();
    let last = format!("new{}.done", MAX_SUBSCRIPTIONS - 1);
    assert_eq!(store.subscribed_endpoints(&tenant, &last).await.unwrap().len(), 1);
    assert_eq!(store.subscribed_endpoints(&tenant, "new0.done").await.unwrap().len(), 1);
    let last_old = format!("old{}.done", MAX_SUBSCRIPTIONS - 1);
    assert!(store.subscribed_endpoints(&tenant, "old0.done").await.unwrap().is_empty());
    assert!(store.subscribed_endpoints(&tenant, &last_old).await.unwrap().is_empty());
    // Half kept, half replaced: the kept ones stay found.
    let kept = patterns("new").into_iter().take(MAX_SUBSCRIPTIONS / 2);
    e = store.get_endpoint(&tenant, &e.id).await.unwrap();
    e.events = kept.chain(patterns("newer").into_iter().take(MAX_SUBSCRIPTIONS / 2)).collect();
    store.update_endpoint(&e).await.unwrap();
    assert_eq!(store.subscribed_endpoints(&tenant, "new0.done").await.unwrap().len(), 1);
    assert_eq!(store.subscribed_endpoints(&tenant, "newer0.done").await.unwrap().len(), 1);
    assert!(store.subscribed_endpoints(&tenant, &last).await.unwrap().is_empty());
    store.delete_endpoint(&tenant, &e.id).await.unwrap();
    assert!(store.subscribed_endpoints(&tenant, "new0.done").await.unwrap().is_empty());
}

/// Pagination: every item once, in order, cursors opaque.
pub async fn endpoint_pages<S: EndpointStore>(store: &S) {
    let tenant = format!("p{}", Timestamp::now().as_millis());
    let mut made = Vec::new();
    for _ in 0..5 {
        let e = endpoint(&tenant, &["run.failed"]);
        store.create_endpoint(&e).await.unwrap();
        made.push(e.id);
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_endpoints(&tenant, &EndpointQuery { after: after.clone(), limit: 2 }).await.unwrap();
        seen.extend(page.items.into_iter().map(|e| e.id));
        match page.next_cursor {
            Some(cursor) => after = Some(EndpointId::parse(&decode_cursor(&cursor).unwrap()).unwrap()),
            None => break,
        }
    }
    assert_eq!(seen, made);

    // Counted without reading them, up to a bound, this tenant's only.
    assert_eq!(store.count_endpoints(&tenant, 100).await.unwrap(), 5);
    assert_eq!(store.count_endpoints(&tenant, 3).await.unwrap(), 3);
    assert_eq!(store.count_endpoints(&format!("{tenant}-other"), 100).await.unwrap(), 0);
    store.delete_endpoint(&tenant, &made[0]).await.unwrap();
    assert_eq!(store.count_endpoints(&tenant, 100).await.unwrap(), 4);
}

/// The failure counter: atomic, disables exactly once at the threshold, resets.
pub async fn failure_counter<S: EndpointStore>(store: &S) {
    let tenant = format!("f{}", Timestamp::now().as_millis());
    let e = endpoint(&tenant, &["run.failed"]);
    store.create_endpoint(&e).await.unwrap();
    let results = join_all((0..3).map(|_| store.record_failure(&tenant, &e.id, 10, "r"))).await;
    let mut counts: Vec<u32> = results.into_iter().map(|r| r.unwrap().failure_count).collect();
    counts.sort();
    assert_eq!(counts, [1, 2, 3], "concurrent failures each count");
    store.reset_failures(&tenant, &e.id).await.unwrap();
    assert_eq!(store.get_endpoint(&tenant, &e.id).await.unwrap().failure_count, 0);
    for n in 1..=4 {
        let before = store.subscriptions_version(&tenant).await.unwrap();
        let count = store.record_failure(&tenant, &e.id, 3, "three in a row").await.unwrap();
        assert_eq!(count.failure_count, n);
        assert_eq!(count.disabled_now, n == 3, "disabled by the third failure only");
        let after = store.subscriptions_version(&tenant).await.unwrap();
        assert_eq!(after != before, n == 3, "the auto-disable moves the subscriptions version");
    }
    let stored = store.get_endpoint(&tenant, &e.id).await.unwrap();
    assert!(!stored.enabled);
    assert_eq!(stored.disabled_reason.as_deref(), Some("three in a row"));
    assert_eq!(
        store.record_failure(&tenant, &EndpointId::generate(Timestamp::now()), 3, "r").await,
        Err(StoreError::NotFound)
    );
}

/// The count of disabled endpoints: a PATCH and an auto-disable each add one; enabling again
/// and deleting take it back.
pub async fn disabled_count<S: EndpointStore>(store: &S) {
    let tenant = format!("x{}", Timestamp::now().as_millis());
    let before = store.count_disabled_endpoints().await.unwrap();
    let count = async || store.count_disabled_endpoints().await.unwrap() - before;
    let (patched, failing) = (endpoint(&tenant, &["run.*"]), endpoint(&tenant, &["run.*"]));
    store.create_endpoint(&patched).await.unwrap();
    store.create_endpoint(&failing).await.unwrap();
    assert_eq!(count().await, 0, "enabled ones do not count");
    let mut off = store.get_endpoint(&tenant, &patched.id).await.unwrap();
    off.enabled = false;
    let off = store.update_endpoint(&off).await.unwrap();
    assert_eq!(count().await, 1, "disabled by a PATCH");
    assert!(store.record_failure(&tenant, &failing.id, 1, "gone").await.unwrap().disabled_now);
    assert_eq!(count().await, 2, "disabled by its failures");
    store.record_failure(&tenant, &failing.id, 1, "gone").await.unwrap();
    assert_eq!(count().await, 2, "counted once");
    let mut on = off;
    on.enabled = true;
    store.update_endpoint(&on).await.unwrap();
    assert_eq!(count().await, 1, "enabled again");
    store.delete_endpoint(&tenant, &failing.id).await.unwrap();
    assert_eq!(count().await, 0, "deleted");
    store.delete_endpoint(&tenant, &patched.id).await.unwrap();
}

/// Events: the first write wins; a redelivery of the same message is told apart from a
/// producer's duplicate.
pub async fn events<S: EventStore>(store: &S) {
    let tenant = format!("e{}", Timestamp::now().as_millis());
    let event = Event {
        tenant: tenant.clone(),
        id: "evt-1".into(),
        event_type: "run.failed".into(),
        entity_id: Some(EntityId::Text("r1".into())),
        payload: RawValue::from_string(r#"{"a": 1}"#.into()).unwrap(),
        created_at: Timestamp::now(),
    };
    assert_eq!(store.record_event(&event, "m1").await.unwrap(), EventRecord::New);
    assert_eq!(store.record_event(&event, "m1").await.unwrap(), EventRecord::SameMessage);
    assert_eq!(store.record_event(&event, "m2").await.unwrap(), EventRecord::Duplicate);
    // The payload reads back byte for byte (spacing kept), right after it was recorded.
    let payload = store.event_payload(&tenant, "evt-1").await.unwrap().expect("recorded just now");
    assert_eq!(payload.get(), r#"{"a": 1}"#);
    assert!(store.event_payload(&tenant, "evt-unknown").await.unwrap().is_none());
    let other_tenant = Event { tenant: format!("{tenant}x"), ..event };
    assert!(store.event_payload(&other_tenant.tenant, "evt-1").await.unwrap().is_none(), "tenants are apart");
    assert_eq!(store.record_event(&other_tenant, "m2").await.unwrap(), EventRecord::New);
}

/// Deliveries: created on first save, attempts appended and counted, filters and pages.
pub async fn deliveries<S: Store>(store: &S) {
    let tenant = format!("d{}", Timestamp::now().as_millis());
    let e = endpoint(&tenant, &["run.*"]);
    store.create_endpoint(&e).await.unwrap();
    let now = Timestamp::now();
    let event = Event {
        tenant: tenant.clone(),
        id: "evt-d".into(),
        event_type: "run.failed".into(),
        entity_id: None,
        payload: RawValue::from_string(r#"{"k":"v"}"#.into()).unwrap(),
        created_at: now,
    };
    store.record_event(&event, "m").await.unwrap();
    let mut delivery = Delivery {
        id: DeliveryId::for_event(&tenant, "evt-d", &e.id, now),
        tenant: tenant.clone(),
        endpoint_id: e.id.clone(),
        event_id: "evt-d".into(),
        event_type: "run.failed".into(),
        status: DeliveryStatus::Pending,
        http_status: Some(500),
        attempts: 0,
        created_at: now,
        delivered_at: None,
        next_retry_at: Some(now.plus(Duration::from_secs(5))),
        last_error: Some("receiver answered HTTP 500".into()),
    };
    assert_eq!(store.delivery_status(&tenant, &e.id, &delivery.id).await.unwrap(), None);
    let attempt = |status| Attempt {
        at: now,
        duration_ms: 3,
        http_status: Some(status),
        response_body: Some("b".into()),
        error: None,
    };
    store.save_delivery(&delivery, Some(&attempt(500))).await.unwrap();
    delivery.status = DeliveryStatus::Delivered;
    delivery.http_status = Some(200);
    delivery.next_retry_at = None;
    store.save_delivery(&delivery, Some(&attempt(200))).await.unwrap();
    let detail = store.get_delivery(&tenant, &e.id, &delivery.id).await.unwrap();
    assert_eq!(detail.delivery.attempts, 2);
    assert_eq!(detail.delivery.status, DeliveryStatus::Delivered);
    assert_eq!(detail.attempts.iter().map(|a| a.http_status).collect::<Vec<_>>(), [Some(500), Some(200)]);
    assert_eq!(detail.payload.unwrap().get(), r#"{"k":"v"}"#);
    assert_eq!(store.delivery_status(&tenant, &e.id, &delivery.id).await.unwrap(), Some(DeliveryStatus::Delivered));
    assert!(matches!(store.get_delivery("other", &e.id, &delivery.id).await, Err(StoreError::NotFound)));

    // A manual resend marks a failed or delivered delivery pending, and only as it was read.
    let later = now.plus(Duration::from_secs(60));
    assert!(!store.requeue_delivery(&tenant, &e.id, &delivery.id, 1, later).await.unwrap(), "a send came between");
    assert!(store.requeue_delivery(&tenant, &e.id, &delivery.id, 2, later).await.unwrap(), "a delivered one");
    assert_eq!(store.delivery_status(&tenant, &e.id, &delivery.id).await.unwrap(), Some(DeliveryStatus::Pending));
    delivery.status = DeliveryStatus::Failed;
    store.save_delivery(&delivery, None).await.unwrap();
    assert!(!store.requeue_delivery(&tenant, &e.id, &delivery.id, 1, later).await.unwrap(), "a send came between");
    assert!(!store.requeue_delivery("other", &e.id, &delivery.id, 2, later).await.unwrap());
    let unknown = DeliveryId::for_event(&tenant, "evt-unknown", &e.id, now);
    assert!(!store.requeue_delivery(&tenant, &e.id, &unknown, 0, later).await.unwrap());
    assert_eq!(store.delivery_status(&tenant, &e.id, &delivery.id).await.unwrap(), Some(DeliveryStatus::Failed));
    assert!(store.requeue_delivery(&tenant, &e.id, &delivery.id, 2, later).await.unwrap());
    let requeued = store.get_delivery(&tenant, &e.id, &delivery.id).await.unwrap().delivery;
    assert_eq!((requeued.status, requeued.next_retry_at, requeued.attempts), (DeliveryStatus::Pending, Some(later), 2));
    assert!(!store.requeue_delivery(&tenant, &e.id, &delivery.id, 2, later).await.unwrap(), "pending now");
    delivery.status = DeliveryStatus::Delivered;
    store.save_delivery(&delivery, None).await.unwrap();

    let query = |status| DeliveryQuery { status, limit: 10, ..DeliveryQuery::default() };
    assert_eq!(store.list_deliveries(&tenant, &query(Some(DeliveryStatus::Delivered))).await.unwrap().items.len(), 1);
    assert!(store.list_deliveries(&tenant, &query(Some(DeliveryStatus::Failed))).await.unwrap().items.is_empty());
    assert!(store.list_deliveries("other", &query(None)).await.unwrap().items.is_empty());

    store.delete_endpoint(&tenant, &e.id).await.unwrap();
    assert!(
        store.list_deliveries(&tenant, &query(None)).await.unwrap().items.is_empty(),
        "history goes with the endpoint"
    );
}

/// A queue with visibility timeout `visibility` and a redrive policy of `max_receives` into
/// `dead_letters`: hides received messages, counts receives, moves to the DLQ at the receive
/// after the last, honours deletes and visibility changes.
pub async fn queue<Q: Queue>(queue: &Q, dead_letters: &Q, visibility: Duration, max_receives: u32) {
    queue.send_batch(vec!["one".into(), "two".into()]).await.unwrap();
    let first = queue.receive(10, Duration::from_secs(2)).await.unwrap();
    let mut bodies: Vec<&str> = first.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    assert_eq!(bodies, ["one", "two"]);
    assert!(first.iter().all(|m| m.receive_count == 1));
    assert!(queue.receive(10, Duration::ZERO).await.unwrap().is_empty(), "received messages are hidden");

    let (one, two) = if first[0].body == "one" { (&first[0], &first[1]) } else { (&first[1], &first[0]) };
    queue.delete_batch(vec![one.receipt.clone()]).await.unwrap();
    queue.change_visibility(&two.receipt, Duration::ZERO).await.unwrap();
    let again = queue.receive(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(again.len(), 1, "the deleted message is gone");
    assert_eq!((again[0].body.as_str(), again[0].receive_count), ("two", 2));
    assert_eq!(again[0].message_id, two.message_id);

    // Left alone, it comes back after the visibility timeout.
    let started = Instant::now();
    let later = queue.receive(10, visibility + Duration::from_secs(5)).await.unwrap();
    assert_eq!(later.len(), 1);
    assert!(started.elapsed() >= visibility - Duration::from_millis(200), "came back after {:?}", started.elapsed());
    let mut last = later.into_iter().next().unwrap();
    while last.receive_count < max_receives {
        queue.change_visibility(&last.receipt, Duration::ZERO).await.unwrap();
        last = queue.receive(1, Duration::from_secs(2)).await.unwrap().remove(0);
    }
    queue.change_visibility(&last.receipt, Duration::ZERO).await.unwrap();
    assert!(queue.receive(10, Duration::from_secs(1)).await.unwrap().is_empty(), "moved to the DLQ instead");
    let parked = dead_letters.receive(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].body, "two");
}

/// Parking and redriving, on a queue and its (empty) dead-letter queue: a parked message
/// keeps its body and its reason (cut to the limit on a character boundary), a look hides
/// nothing, the depth counts, and a redrive moves bodies back without their reasons.
pub async fn dead_letters<Q: Queue>(queue: &Q, dead_letters: &Q) {
    assert_eq!(dead_letters.depth().await.unwrap(), 0, "starts empty");
    assert!(dead_letters.peek(10).await.unwrap().is_empty());
    dead_letters.park("not json".into(), "malformed event message: expected value").await.unwrap();
    let long = format!("a{}", "é".repeat(MAX_REASON_BYTES)); // the limit falls inside an é
    dead_letters.park(r#"{"n":2}"#.into(), &long).await.unwrap();
    assert_eq!(dead_letters.depth().await.unwrap(), 2);

    for look in 0..2 {
        let mut seen = dead_letters.peek(10).await.unwrap();
        seen.sort_by(|a, b| a.body.cmp(&b.body));
        let parked: Vec<(&str, Option<&str>)> = seen.iter().map(|m| (m.body.as_str(), m.reason.as_deref())).collect();
        let cut = &long[..MAX_REASON_BYTES - 1];
        assert_eq!(
            parked,
            [("not json", Some("malformed event message: expected value")), (r#"{"n":2}"#, Some(cut))],
            "look {look}"
        );
    }
    let received = dead_letters.receive(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(received.len(), 2, "a look hides nothing");
    assert!(received.iter().all(|m| m.reason.is_some()), "a receive answers the reason too");
    for message in &received {
        dead_letters.change_visibility(&message.receipt, Duration::ZERO).await.unwrap();
    }

    // A body as large as a message may be is never refused for its reason.
    let large = "x".repeat(256 * 1024 - 16);
    dead_letters.park(large.clone(), &"r".repeat(MAX_REASON_BYTES)).await.unwrap();
    // A redrive moves what was parked before it started, to the millisecond: one parked in
    // the same millisecond as the call may stay (and did, once in CI, on the emulator).
    tokio::time::sleep(Duration::from_millis(5)).await;

    let moved = webhooks::queues::dead_letters::redrive(dead_letters, queue, 100).await.unwrap();
    assert_eq!(moved, 3);
    assert_eq!(dead_letters.depth().await.unwrap(), 0, "moved, not copied");
    let mut back = Vec::new();
    while back.len() < 3 {
        let batch = queue.receive(10, Duration::from_secs(2)).await.unwrap();
        assert!(!batch.is_empty(), "only {} came back", back.len());
        back.extend(batch);
    }
    assert!(back.iter().all(|m| m.reason.is_none() && m.receive_count == 1), "back as new messages");
    let mut bodies: Vec<&str> = back.iter().map(|m| m.body.as_str()).collect();
    bodies.sort_by_key(|body| body.len());
    assert_eq!(bodies, ["{\"n\":2}", "not json", large.as_str()]);
    queue.delete_batch(back.iter().map(|m| m.receipt.clone()).collect()).await.unwrap();
}

/// Counts per endpoint and second: 1, 2, 3 in one second; a new second and another endpoint
/// start at 1; concurrent counts are distinct.
pub async fn rate_counter<R: RateCounter>(counter: &R) {
    let now = Timestamp::now();
    let (one, other) = (EndpointId::generate(now), EndpointId::generate(now));
    let second = now.unix_seconds();
    for expected in 1..=3 {
        assert_eq!(counter.count(&one, second).await.unwrap(), expected);
    }
    assert_eq!(counter.count(&one, second + 1).await.unwrap(), 1, "each second starts at zero");
    assert_eq!(counter.count(&other, second).await.unwrap(), 1, "each endpoint counts alone");
    let mut counts =
        futures_util::future::try_join_all((0..20).map(|_| counter.count(&other, second + 2))).await.unwrap();
    counts.sort();
    assert_eq!(counts, (1..=20).collect::<Vec<u32>>(), "concurrent counts are distinct");
}

/// A delayed message stays hidden for its delay, then arrives as a new message (first
/// receive); a zero delay is an ordinary send.
pub async fn delayed_send<Q: Queue>(queue: &Q) {
    let started = Instant::now();
    queue.send_delayed("later".into(), Duration::from_secs(2)).await.unwrap();
    queue.send_delayed("now".into(), Duration::ZERO).await.unwrap();
    let first = queue.receive(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(first.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["now"], "the delayed one is hidden");
    queue.delete_batch(first.iter().map(|m| m.receipt.clone()).collect()).await.unwrap();
    let mut later = Vec::new();
    while later.is_empty() && started.elapsed() < Duration::from_secs(10) {
        later = queue.receive(10, Duration::from_secs(1)).await.unwrap();
    }
    assert_eq!(later.len(), 1, "the delayed message arrives");
    assert_eq!((later[0].body.as_str(), later[0].receive_count), ("later", 1));
    assert!(started.elapsed() >= Duration::from_millis(1900), "arrived after {:?}", started.elapsed());
    queue.delete_batch(vec![later[0].receipt.clone()]).await.unwrap();
}

/// A send wakes a long poll at once.
pub async fn long_poll_wakes_on_send<Q: Queue + Clone>(queue: &Q) {
    let receiver = queue.clone();
    let started = Instant::now();
    let waiting = tokio::spawn(async move { receiver.receive(1, Duration::from_secs(10)).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    queue.send_batch(vec!["wake".into()]).await.unwrap();
    let got = waiting.await.unwrap();
    assert_eq!(got[0].body, "wake");
    assert!(started.elapsed() < Duration::from_secs(5), "the send woke the poll");
    queue.delete_batch(vec![got[0].receipt.clone()]).await.unwrap();
}

/// Delivery pages, newest first, per endpoint and in the delivery log, with a filter that skips
/// items: every matching delivery once, in order.
pub async fn delivery_pages<S: Store>(store: &S) {
    let tenant = format!("q{}", Timestamp::now().as_millis());
    let e = endpoint(&tenant, &["run.*"]);
    store.create_endpoint(&e).await.unwrap();
    let mut made = Vec::new();
    for n in 0..7 {
        let at = Timestamp::from_millis(Timestamp::now().as_millis() + n);
        let delivery = Delivery {
            id: DeliveryId::for_event(&tenant, &format!("evt-{n}"), &e.id, at),
            tenant: tenant.clone(),
            endpoint_id: e.id.clone(),
            event_id: format!("evt-{n}"),
            event_type: "run.failed".into(),
            status: if n % 2 == 0 { DeliveryStatus::Delivered } else { DeliveryStatus::Failed },
            http_status: Some(200),
            attempts: 0,
            created_at: at,
            delivered_at: None,
            next_retry_at: None,
            last_error: None,
        };
        store.save_delivery(&delivery, None).await.unwrap();
        made.push(delivery);
    }
    made.sort_by(|a, b| b.id.cmp(&a.id));
    for endpoint_id in [None, Some(e.id.clone())] {
        for status in [None, Some(DeliveryStatus::Delivered)] {
            let mut seen = Vec::new();
            let mut before = None;
            loop {
                let query = DeliveryQuery {
                    endpoint_id: endpoint_id.clone(),
                    status,
                    before: before.clone(),
                    limit: 2,
                    ..DeliveryQuery::default()
                };
                let page = store.list_deliveries(&tenant, &query).await.unwrap();
                assert!(page.items.len() <= 2);
                seen.extend(page.items.into_iter().map(|d| d.id));
                match page.next_cursor {
                    Some(cursor) => before = Some(DeliveryId::parse(&decode_cursor(&cursor).unwrap()).unwrap()),
                    None => break,
                }
            }
            let expected: Vec<DeliveryId> =
                made.iter().filter(|d| status.is_none_or(|s| d.status == s)).map(|d| d.id.clone()).collect();
            assert_eq!(seen, expected, "endpoint {endpoint_id:?}, status {status:?}");
        }
    }
}
