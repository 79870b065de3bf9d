//! The port conformance suite against DynamoDB and SQS, on the local emulator: the same
//! checks as `conformance_sqlite.rs`, so both backends provably behave alike.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_aws::deployment::{QueueDefinition, provision_queue, provision_table};
use webhooks_aws::dynamodb::schema::{PARTITION_KEY, SORT_KEY, tenant_partition};
use webhooks_aws::dynamodb::{DEFAULT_RETENTION, DynamoStore};
use webhooks_aws::sqs::SqsQueue;
use webhooks_aws::usage::Usage;
use webhooks_tests::conformance;
use webhooks_tests::local_aws::{local_aws, unique_name};

/// A store on a table of its own, with the client and the table's name to reach past it.
async fn store_on_a_new_table(name: &str) -> (aws_sdk_dynamodb::Client, String, DynamoStore) {
    let config = local_aws().sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name(name);
    provision_table(&client, &table).await.unwrap();
    let store = DynamoStore::new(client.clone(), table.clone(), DEFAULT_RETENTION);
    (client, table, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_contract() {
    let (_, _, store) = store_on_a_new_table("store").await;
    conformance::store(&store).await;
    conformance::rate_counter(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_contract() {
    let config = local_aws().sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&config);
    let visibility = Duration::from_secs(1);
    let name = unique_name("q");
    let dead_letters = QueueDefinition {
        name: format!("{name}-dlq"),
        visibility_timeout: visibility,
        retention: Duration::from_secs(3600),
        redrive: None,
    };
    let queue =
        QueueDefinition { name: name.clone(), redrive: Some((dead_letters.name.clone(), 3)), ..dead_letters.clone() };
    let dead_letters_url = provision_queue(&client, &dead_letters).await.unwrap();
    let dead_letters_definition = dead_letters;
    let queue_url = provision_queue(&client, &queue).await.unwrap();
    let usage = Usage::default();
    let queue = SqsQueue::new(client.clone(), queue_url, usage.clone());
    let dead_letters = SqsQueue::new(client.clone(), dead_letters_url, usage.clone());
    conformance::queue(&queue, &dead_letters, visibility, 3).await;
    conformance::long_poll_wakes_on_send(&queue).await;
    conformance::delayed_send(&queue).await;
    let other = QueueDefinition { name: format!("{name}-dlq-2"), ..dead_letters_definition };
    let dead_letters = SqsQueue::new(client.clone(), provision_queue(&client, &other).await.unwrap(), usage);
    conformance::dead_letters(&queue, &dead_letters).await;
}

/// The subscription index is written beside the endpoint, not in its transaction: whatever a
/// crash between those writes leaves behind (index items the endpoint does not hold, or for
/// an endpoint never written), the endpoint item decides what `subscribed_endpoints` answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_index_and_the_endpoint_loses_or_invents_no_subscription() {
    use webhooks::ids::EndpointId;
    use webhooks_aws::dynamodb::schema::subscription_sort_key;

    let (client, table, store) = store_on_a_new_table("crash").await;
    let tenant = "crashes";
    // What a crash leaves: an index item for `pattern` and `endpoint`, as step 1 writes it.
    let leave_index_item = |pattern: &str, endpoint: &EndpointId, version: u64| {
        client
            .put_item()
            .table_name(&table)
            .item(PARTITION_KEY, AttributeValue::S(tenant_partition(tenant)))
            .item(SORT_KEY, AttributeValue::S(subscription_sort_key(pattern, endpoint.as_str())))
            .item("ver", AttributeValue::N(version.to_string()))
            .send()
    };
    let ids = |found: Vec<Endpoint>| found.into_iter().map(|e| e.id).collect::<Vec<_>>();

    let mut endpoint = Endpoint::new(
        tenant.into(),
        "https://example.com/h".into(),
        vec!["run.failed".into()],
        Secret::new("s".repeat(32)),
        Timestamp::now(),
    );
    store.create_endpoint(&endpoint).await.unwrap();

    // An update to run.completed that crashed after indexing it, before the endpoint write.
    leave_index_item("run.completed", &endpoint.id, endpoint.version + 1).await.unwrap();
    assert!(store.subscribed_endpoints(tenant, "run.completed").await.unwrap().is_empty(), "not invented");
    assert_eq!(ids(store.subscribed_endpoints(tenant, "run.failed").await.unwrap()), [endpoint.id.clone()]);

    // The update done, then a crash before the cleanup of what it dropped.
    endpoint.events = vec!["run.completed".into()];
    endpoint = store.update_endpoint(&endpoint).await.unwrap();
    leave_index_item("run.failed", &endpoint.id, endpoint.version - 1).await.unwrap();
    assert!(store.subscribed_endpoints(tenant, "run.failed").await.unwrap().is_empty(), "dropped stays dropped");
    assert_eq!(ids(store.subscribed_endpoints(tenant, "run.completed").await.unwrap()), [endpoint.id.clone()]);

    // A create that crashed after indexing: the endpoint was never written.
    let never = EndpointId::generate(Timestamp::now());
    leave_index_item("run.completed", &never, 0).await.unwrap();
    assert_eq!(ids(store.subscribed_endpoints(tenant, "run.completed").await.unwrap()), [endpoint.id.clone()]);

    // The next update of the endpoint finds its way through the leftovers.
    endpoint.events = vec!["run.failed".into(), "run.*".into()];
    endpoint = store.update_endpoint(&endpoint).await.unwrap();
    for event_type in ["run.failed", "run.completed"] {
        assert_eq!(ids(store.subscribed_endpoints(tenant, event_type).await.unwrap()), [endpoint.id.clone()]);
    }
}

/// A uid is given up by deleting its index item after the endpoint write; whatever a crash
/// between the two leaves (an item naming an endpoint that is gone, or that holds another
/// uid now) neither answers a lookup nor keeps the uid from anyone, its old holder included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_a_uid_is_freed_keeps_it_from_no_one() {
    use webhooks::ports::StoreError;
    use webhooks_aws::dynamodb::schema::{endpoint_sort_key, uid_sort_key};

    let (client, table, store) = store_on_a_new_table("uids").await;
    let tenant = "uid-crashes";
    let with_uid = |uid: &str| webhooks_tests::uid_conformance::endpoint(tenant, Some(uid));
    // What a crash leaves: the uid's item, naming `endpoint`.
    let leave_uid_item = |uid: &str, endpoint: &Endpoint| {
        client
            .put_item()
            .table_name(&table)
            .item(PARTITION_KEY, AttributeValue::S(tenant_partition(tenant)))
            .item(SORT_KEY, AttributeValue::S(uid_sort_key(uid)))
            .item("id", AttributeValue::S(endpoint.id.to_string()))
            .send()
    };

    // A delete that crashed after removing the endpoint item, before freeing its uid.
    let gone = with_uid("acme-1");
    store.create_endpoint(&gone).await.unwrap();
    client
        .delete_item()
        .table_name(&table)
        .key(PARTITION_KEY, AttributeValue::S(tenant_partition(tenant)))
        .key(SORT_KEY, AttributeValue::S(endpoint_sort_key(gone.id.as_str())))
        .send()
        .await
        .unwrap();
    assert_eq!(store.find_endpoint_by_uid(tenant, "acme-1").await, Err(StoreError::NotFound));
    let heir = with_uid("acme-1");
    store.create_endpoint(&heir).await.expect("the uid of a deleted endpoint is free");
    assert_eq!(store.find_endpoint_by_uid(tenant, "acme-1").await.unwrap().id, heir.id);
    assert!(matches!(store.create_endpoint(&with_uid("acme-1")).await, Err(StoreError::Taken(_))), "and held now");

    // A rename that crashed before freeing the old uid.
    let renamed = store.update_endpoint(&Endpoint { uid: Some("acme-2".into()), ..heir }).await.unwrap();
    leave_uid_item("acme-1", &renamed).await.unwrap();
    assert_eq!(store.find_endpoint_by_uid(tenant, "acme-1").await, Err(StoreError::NotFound));
    // Its old holder may take it back, over its own leftover.
    let back = store.update_endpoint(&Endpoint { uid: Some("acme-1".into()), ..renamed }).await.unwrap();
    assert_eq!(store.find_endpoint_by_uid(tenant, "acme-1").await.unwrap().id, back.id);
    assert_eq!(store.find_endpoint_by_uid(tenant, "acme-2").await, Err(StoreError::NotFound));
    // And another endpoint takes over a leftover naming an endpoint that holds another uid.
    leave_uid_item("acme-2", &back).await.unwrap();
    let other = with_uid("acme-2");
    store.create_endpoint(&other).await.expect("a uid its item's endpoint gave up is free");
    assert_eq!(store.find_endpoint_by_uid(tenant, "acme-2").await.unwrap().id, other.id);
}
