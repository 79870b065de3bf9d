//! The uid part of the [`EndpointStore`] contract, run against every adapter by
//! `conformance::store`: a uid is unique per tenant, found while held, free once given up.

use webhooks::endpoints::Endpoint;

use webhooks::endpoints::store::EndpointStore;
use webhooks::ports::StoreError;
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;

/// A new endpoint of `tenant` (subscribed to `run.failed`) holding `uid`.
pub fn endpoint(tenant: &str, uid: Option<&str>) -> Endpoint {
    Endpoint {
        uid: uid.map(str::to_owned),
        ..Endpoint::new(
            tenant.to_owned(),
            "https://example.com/hook".into(),
            vec!["run.failed".into()],
            Secret::new("s".repeat(32)),
            Timestamp::now(),
        )
    }
}

fn taken<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Taken(ref message)) if message.contains("uid"))
}

/// Uids: held by one endpoint per tenant at a time (on create and update), found by uid only
/// while held, free for another endpoint as soon as its holder renames, drops it or is deleted.
pub async fn endpoint_uids<S: EndpointStore>(store: &S) {
    let now = Timestamp::now().as_millis();
    let (tenant, other) = (format!("u{now}"), format!("u{now}-other"));
    let first = endpoint(&tenant, Some("customer-1"));
    store.create_endpoint(&first).await.unwrap();
    assert_eq!(store.get_endpoint(&tenant, &first.id).await.unwrap().uid.as_deref(), Some("customer-1"));
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-1").await.unwrap(), first);
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-2").await, Err(StoreError::NotFound));
    assert_eq!(store.find_endpoint_by_uid(&other, "customer-1").await, Err(StoreError::NotFound), "per tenant");

    let twin = endpoint(&tenant, Some("customer-1"));
    assert!(taken(store.create_endpoint(&twin).await), "a second endpoint cannot take a held uid");
    assert_eq!(store.get_endpoint(&tenant, &twin.id).await, Err(StoreError::NotFound), "and is not created");
    assert!(
        store.subscribed_endpoints(&tenant, "run.failed").await.unwrap().iter().all(|e| e.id != twin.id),
        "nor subscribed"
    );
    store.create_endpoint(&endpoint(&other, Some("customer-1"))).await.unwrap();
    let mut second = endpoint(&tenant, None);
    store.create_endpoint(&second).await.unwrap();
    store.create_endpoint(&endpoint(&tenant, None)).await.unwrap();

    second.uid = Some("customer-1".into());
    assert!(taken(store.update_endpoint(&second).await), "nor by an update");
    second.uid = Some("customer-2".into());
    let second = store.update_endpoint(&second).await.unwrap();
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-2").await.unwrap().id, second.id);
    let kept = store.update_endpoint(&Endpoint { description: Some("kept".into()), ..second.clone() }).await.unwrap();
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-2").await.unwrap(), kept, "an update keeping it");

    // The holder renames: the old uid is free at once, and found no more.
    let renamed = store.update_endpoint(&Endpoint { uid: Some("customer-1b".into()), ..first.clone() }).await.unwrap();
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-1").await, Err(StoreError::NotFound));
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-1b").await.unwrap().id, first.id);
    let took = store.update_endpoint(&Endpoint { uid: Some("customer-1".into()), ..kept }).await.unwrap();
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-1").await.unwrap().id, second.id);
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-2").await, Err(StoreError::NotFound));

    // Dropped, then deleted: free each time.
    let dropped = store.update_endpoint(&Endpoint { uid: None, ..took }).await.unwrap();
    assert_eq!(dropped.uid, None);
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-1").await, Err(StoreError::NotFound));
    store.delete_endpoint(&tenant, &renamed.id).await.unwrap();
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-1b").await, Err(StoreError::NotFound));
    let heir = endpoint(&tenant, Some("customer-1b"));
    store.create_endpoint(&heir).await.unwrap();
    assert_eq!(store.find_endpoint_by_uid(&tenant, "customer-1b").await.unwrap().id, heir.id);
}
