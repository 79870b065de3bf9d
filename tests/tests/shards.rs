//! A tenant's event log and delivery listing spread over shards on DynamoDB (the emulator):
//! written to every shard, read back merged newest first, page by page, with a shard empty,
//! and the requests a page costs counted. The whole store contract passes sharded too.

use std::collections::BTreeSet;
use std::time::Duration;

use webhooks::deliveries::store::{DeliveryQuery, DeliveryStore};
use webhooks::events::store::{EventCursor, EventQuery, EventStore};
use webhooks::ids::{DeliveryId, EndpointId};
use webhooks::pagination::decode_cursor;
use webhooks::time::Timestamp;
use webhooks_aws::deployment::provision_table;
use webhooks_aws::dynamodb::schema::{LISTING_PARTITION_KEY, PARTITION_KEY};
use webhooks_aws::dynamodb::shards::shard_of;
use webhooks_aws::dynamodb::{DEFAULT_RETENTION, DynamoStore};
use webhooks_tests::conformance;
use webhooks_tests::event_log_conformance::{delivery, event};
use webhooks_tests::local_aws::{local_aws, unique_name};

const SHARDS: u16 = 4;

async fn sharded_store(name: &str) -> (aws_sdk_dynamodb::Client, String, DynamoStore) {
    let client = aws_sdk_dynamodb::Client::new(&local_aws().sdk_config().await);
    let table = unique_name(name);
    provision_table(&client, &table).await.unwrap();
    let store = DynamoStore::new(client.clone(), table.clone(), DEFAULT_RETENTION).with_shards(SHARDS);
    (client, table, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_contract_holds_sharded() {
    let (_, _, store) = sharded_store("sharded").await;
    conformance::store(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sharded_tenant_lists_its_events_and_deliveries_newest_first_page_by_page() {
    let (client, table, store) = sharded_store("shards").await;
    let tenant = "big";
    // Ids whose events all avoid one shard: it stays empty, and the merge must not mind.
    let empty = 3;
    let ids: Vec<String> =
        (0..200).map(|n| format!("evt-{n}")).filter(|id| shard_of(id, SHARDS) != empty).take(23).collect();
    let start = Timestamp::now();
    let endpoints = [EndpointId::generate(start), EndpointId::generate(start)];
    let mut events = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        // Three events share each millisecond: the order within one is by id.
        let at = start.plus(Duration::from_millis(n as u64 / 3));
        let recorded = event(tenant, id, if n % 2 == 0 { "run.failed" } else { "run.completed" }, at);
        store.record_event(&recorded, &format!("m-{id}")).await.unwrap();
        for endpoint in &endpoints {
            store.save_delivery(&delivery(&recorded, endpoint), None).await.unwrap();
        }
        events.push(recorded);
    }

    // Written to every shard but the empty one.
    let scan = client.scan().table_name(&table).send().await.unwrap();
    let log_partitions: BTreeSet<String> = scan
        .items()
        .iter()
        .filter_map(|item| item[PARTITION_KEY].as_s().ok().filter(|pk| pk.starts_with("EVL#big")).cloned())
        .collect();
    assert_eq!(log_partitions, BTreeSet::from(["EVL#big".into(), "EVL#big#1".into(), "EVL#big#2".into()]));
    let listing_partitions: BTreeSet<String> = scan
        .items()
        .iter()
        .filter_map(|item| item.get(LISTING_PARTITION_KEY).and_then(|v| v.as_s().ok()).cloned())
        .filter(|pk| pk.starts_with("D#big"))
        .collect();
    assert_eq!(listing_partitions, BTreeSet::from(["D#big".into(), "D#big#1".into(), "D#big#2".into()]));

    // Events, newest first (time, then id), 5 a page: each page reads every shard once.
    let mut expected: Vec<(Timestamp, String)> = events.iter().map(|e| (e.created_at, e.id.clone())).collect();
    expected.sort();
    expected.reverse();
    let mut listed = Vec::new();
    let mut query = EventQuery { limit: 5, ..Default::default() };
    let usage = store.usage().clone();
    loop {
        usage.reset();
        let page = store.list_events(tenant, &query).await.unwrap();
        assert_eq!(usage.snapshot()["Query"].requests, u64::from(SHARDS), "one query per shard a page");
        assert!(page.items.len() <= 5);
        listed.extend(page.items.iter().map(|e| (e.created_at, e.id.clone())));
        match page.next_cursor {
            Some(cursor) => query.before = Some(EventCursor::parse(&decode_cursor(&cursor).unwrap()).unwrap()),
            None => break,
        }
    }
    assert_eq!(listed, expected);
    // Filtered by type and bounded by time, across shards.
    let since = start.plus(Duration::from_millis(3));
    let failed =
        EventQuery { limit: 50, event_type: Some("run.failed".into()), since: Some(since), ..Default::default() };
    let page = store.list_events(tenant, &failed).await.unwrap();
    let want: Vec<&str> = expected
        .iter()
        .filter(|(at, id)| *at >= since && events.iter().any(|e| e.id == *id && e.event_type == "run.failed"))
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(page.items.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), want);

    // Deliveries, newest first by id, 7 a page, across shards; an event's from its one shard.
    let mut expected: Vec<DeliveryId> = events
        .iter()
        .flat_map(|e| endpoints.iter().map(|ep| DeliveryId::for_event(tenant, &e.id, ep, e.created_at)))
        .collect();
    expected.sort_by(|a, b| b.as_str().cmp(a.as_str()));
    let mut listed = Vec::new();
    let mut query = DeliveryQuery { limit: 7, ..Default::default() };
    loop {
        usage.reset();
        let page = store.list_deliveries(tenant, &query).await.unwrap();
        assert_eq!(usage.snapshot()["Query"].requests, u64::from(SHARDS));
        listed.extend(page.items.iter().map(|d| d.id.clone()));
        match page.next_cursor {
            Some(cursor) => query.before = Some(DeliveryId::parse(&decode_cursor(&cursor).unwrap()).unwrap()),
            None => break,
        }
    }
    assert_eq!(listed, expected);
    let last = events.last().unwrap();
    usage.reset();
    let of_event = store.event_deliveries(tenant, &last.id, last.created_at).await.unwrap();
    assert_eq!(of_event.len(), 2);
    assert!(of_event.iter().all(|d| d.event_id == last.id));
    assert_eq!(usage.snapshot()["Query"].requests, 1, "an event's deliveries are in its shard");
}
