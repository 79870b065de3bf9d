//! The delivery counts' contract (added, never overwritten; read back by hour, one
//! endpoint's and one tenant's only), run against every adapter by `conformance::store`.

use futures_util::future::join_all;
use webhooks::deliveries::stats::{DeliveryCounts, StatsStore, hour_of};
use webhooks::ids::EndpointId;
use webhooks::time::Timestamp;

const HOUR: i64 = 3_600_000;

fn counts(delivered: u64, retrying: u64, failed: u64) -> DeliveryCounts {
    DeliveryCounts { delivered, retrying, failed }
}

pub async fn delivery_counts<S: StatsStore>(store: &S) {
    let now = Timestamp::now();
    let tenant = format!("c{}", now.as_millis());
    let (endpoint, other) = (EndpointId::generate(now), EndpointId::generate(now));
    let this_hour = hour_of(now);
    let hour = |n: i64| Timestamp::from_millis(this_hour.as_millis() + n * HOUR);
    assert!(store.delivery_counts(&tenant, &endpoint, hour(-3), hour(1)).await.unwrap().is_empty(), "none yet");

    // Concurrent adds to one hour all count.
    let adds = (0..8).map(|_| store.add_delivery_counts(&tenant, &endpoint, hour(0), counts(1, 2, 3)));
    for added in join_all(adds).await {
        added.unwrap();
    }
    store.add_delivery_counts(&tenant, &endpoint, hour(-2), counts(5, 0, 0)).await.unwrap();
    store.add_delivery_counts(&tenant, &endpoint, hour(1), counts(0, 0, 9)).await.unwrap();
    // Another endpoint's and another tenant's counts stay theirs.
    store.add_delivery_counts(&tenant, &other, hour(0), counts(100, 0, 0)).await.unwrap();
    store.add_delivery_counts(&format!("{tenant}x"), &endpoint, hour(0), counts(100, 0, 0)).await.unwrap();

    let found = store.delivery_counts(&tenant, &endpoint, hour(-3), hour(1)).await.unwrap();
    let found: Vec<_> = found.into_iter().filter(|(_, counts)| !counts.is_zero()).collect();
    assert_eq!(found, [(hour(-2), counts(5, 0, 0)), (hour(0), counts(8, 16, 24))], "oldest first, `to` excluded");
    let from_this_hour = store.delivery_counts(&tenant, &endpoint, hour(0), hour(2)).await.unwrap();
    assert_eq!(from_this_hour, [(hour(0), counts(8, 16, 24)), (hour(1), counts(0, 0, 9))], "`from` included");
    assert_eq!(
        store.delivery_counts(&tenant, &other, hour(-3), hour(2)).await.unwrap(),
        [(hour(0), counts(100, 0, 0))]
    );
    assert!(store.delivery_counts(&tenant, &endpoint, hour(2), hour(1)).await.unwrap().is_empty(), "an empty span");
}
