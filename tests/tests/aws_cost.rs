//! What a delivery costs on AWS, counted: the happy path (1 KiB payloads, fan-out 1, batches
//! of 10) through the API, the dispatcher and the sender on the emulator, with every
//! DynamoDB and SQS request counted by the adapters and the write units computed from the
//! items' sizes (the emulator reports a flat figure). docs/aws.md quotes what this prints.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use tokio::net::TcpListener;
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::ports::SystemClock;
use webhooks::queues::{Queue, ReceivedMessage};
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::security::api_keys::Scope;
use webhooks::security::api_keys::mint;
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_aws::AwsBackend;
use webhooks_aws::dynamodb::item_size;
use webhooks_aws::dynamodb::schema::*;
use webhooks_aws::sqs::EMPTY_RECEIVE;
use webhooks_http::ReqwestSender;
use webhooks_pipeline::dispatcher::Dispatcher;
use webhooks_pipeline::sender::Sender;
use webhooks_tests::local_aws::{aws_app, provisioned};
use webhooks_tests::pricing::{PRICES_AS_OF, PerDelivery, per_million};
use webhooks_tests::{Api, Receiver};

const EVENTS: usize = 20;

/// Receives batches of 10 and deletes what the handler did not report failed, as Lambda's
/// event source mapping does, until the queue is empty; answers the batches (invocations).
async fn drain_like_lambda<Q, H, Fut>(queue: &Q, handle_batch: H) -> usize
where
    Q: Queue,
    H: Fn(Vec<ReceivedMessage>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let mut invocations = 0;
    loop {
        let batch = queue.receive(10, Duration::from_secs(1)).await.unwrap();
        if batch.is_empty() {
            return invocations;
        }
        invocations += 1;
        let receipts: Vec<String> = batch.iter().map(|m| m.receipt.clone()).collect();
        let failed = handle_batch(batch).await;
        assert!(failed.is_empty(), "the happy path fails nothing: {failed:?}");
        queue.delete_batch(receipts).await.unwrap();
    }
}

fn write_units(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    item_size(item).div_ceil(1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_costs_what_the_readme_says() {
    let aws = provisioned(DeliveryPolicy::default()).await;
    let backend = AwsBackend::new(&aws.config, &aws.settings);
    let receiver = Receiver::start().await;
    let endpoint = Endpoint::new(
        "acme".into(),
        receiver.url("/hook"),
        vec!["run.failed".into()],
        Secret::new("s".repeat(64)),
        Timestamp::now(),
    );
    backend.store.create_endpoint(&endpoint).await.unwrap();
    let admin = mint("acme".into(), "producer".into(), vec![Scope::EventsWrite], Timestamp::now(), None);
    backend.store.create_api_key(&admin.record, &admin.key_hash).await.unwrap();
    let app = aws_app(&backend, &aws.settings);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = Api::new(format!("http://{}", listener.local_addr().unwrap()), &admin.key);
    tokio::spawn(async move { axum::serve(listener, webhooks_api::router(app)).await });
    let dispatcher = Dispatcher::new(
        backend.store.clone(),
        backend.deliveries.clone(),
        backend.events_dead_letters.clone(),
        aws.settings.service.subscription_cache,
    );
    let sender = Sender::new(
        backend.store.clone(),
        backend.deliveries.clone(),
        ReqwestSender::new(aws.settings.service.url_policy.clone()),
        SystemClock,
        aws.settings.service.policy.clone(),
    );
    let (dynamodb, sqs) = (backend.store.usage().clone(), backend.events.usage().clone());
    dynamodb.reset();
    sqs.reset();

    // 20 events of 1 KiB in two requests, then each stage drains its queue in batches of 10.
    let payload = json!({"run": {"id": "run_42", "log": "x".repeat(1000)}});
    assert!((1024..1100).contains(&payload.to_string().len()));
    for request in 0..EVENTS / 10 {
        let events: Vec<_> = (0..10)
            .map(|n| json!({"id": format!("evt-cost-{request}-{n}"), "type": "run.failed", "payload": payload}))
            .collect();
        assert_eq!(api.send_events(json!({"events": events})).await.len(), 10);
    }
    let dispatches = drain_like_lambda(&backend.events, |batch| dispatcher.handle_batch(batch)).await;
    let sends = drain_like_lambda(&backend.deliveries, |batch| sender.handle_batch(batch)).await;
    assert_eq!(receiver.received().len(), EVENTS, "every event delivered once");

    let per_delivery = |requests: u64| requests as f64 / EVENTS as f64;
    let sqs_used = sqs.snapshot();
    let dynamodb_used = dynamodb.snapshot();
    println!("per delivery, {EVENTS} deliveries of 1 KiB, fan-out 1, batches of 10:");
    for (operation, usage) in sqs_used.iter().chain(dynamodb_used.iter()) {
        println!("  {operation:<24} {:>5.2} requests", per_delivery(usage.requests));
    }

    let sqs_billed: u64 = sqs_used.iter().filter(|(op, _)| **op != EMPTY_RECEIVE).map(|(_, u)| u.requests).sum();
    // Per batch of 10: the API's send, the dispatcher's receive, delete and send, the
    // sender's receive and delete.
    assert_eq!(sqs_used["SendMessageBatch"].requests, 4);
    assert_eq!(sqs_used["ReceiveMessage"].requests, 4);
    assert_eq!(sqs_used["DeleteMessageBatch"].requests, 4);
    assert_eq!(per_delivery(sqs_billed), 0.6);
    assert!(!sqs_used.contains_key("ChangeMessageVisibility"), "no retries on the happy path");

    // DynamoDB writes: the event's idempotent first write, the delivery's one write, and the
    // endpoint's counts once per sender batch.
    let writes: u64 = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"]
        .iter()
        .filter_map(|op| dynamodb_used.get(op).map(|u| u.requests))
        .sum();
    // Per event: its item and its event log entry.
    assert_eq!(dynamodb_used["PutItem"].requests, 2 * EVENTS as u64);
    // Per delivery its item; per sender batch, the endpoint's counts (one endpoint here).
    assert_eq!(sends, 2, "two batches of 10");
    assert_eq!(dynamodb_used["UpdateItem"].requests, EVENTS as u64 + sends as u64);
    assert_eq!(per_delivery(writes), 3.1);
    // Subscriptions are looked up once (three patterns and one BatchGetItem); the second
    // batch reuses them after reading the tenant's subscriptions version.
    assert_eq!(dynamodb_used["Query"].requests, 3);
    assert_eq!(dynamodb_used["BatchGetItem"].requests, 1);

    // Write units, from the stored items' sizes: one write unit per started KB, and the
    // delivery's listing-index entry costs as much again.
    let client = aws_sdk_dynamodb::Client::new(&aws.config);
    let get = async |pk: String, sk: String| {
        client
            .get_item()
            .table_name(&aws.settings.table)
            .key(PARTITION_KEY, AttributeValue::S(pk))
            .key(SORT_KEY, AttributeValue::S(sk))
            .send()
            .await
            .unwrap()
            .item
            .unwrap()
    };
    let event_item = get(event_partition("acme", "evt-cost-0-0"), EVENT_SORT_KEY.into()).await;
    let created = event_item["created"].as_n().unwrap().parse::<i64>().unwrap();
    let log_entry = get(event_log_partition("acme"), event_log_sort_key(created, "evt-cost-0-0")).await;
    let deliveries = backend
        .store
        .list_deliveries("acme", &webhooks::deliveries::store::DeliveryQuery { limit: 1, ..Default::default() })
        .await
        .unwrap();
    let delivery = &deliveries.items[0];
    let delivery_item = get(delivery_partition("acme", delivery.endpoint_id.as_str()), delivery.id.to_string()).await;
    let (log_units, delivery_units) = (write_units(&log_entry), write_units(&delivery_item));
    let hour = webhooks::deliveries::stats::hour_of(delivery.created_at).as_millis();
    let stats_item = get(stats_partition("acme", delivery.endpoint_id.as_str()), stats_sort_key(hour)).await;
    assert_eq!(stats_item["delivered"].as_n().unwrap(), &EVENTS.to_string(), "every delivery counted");
    let stats_units = write_units(&stats_item);
    assert_eq!(stats_units, 1, "an hour's counts fit one write unit");
    // The event's own writes: its item, and its entry in the event log.
    let event_units = write_units(&event_item) + log_units;
    println!(
        "  write units: event {} ({} B) + log entry {log_units} ({} B), delivery {delivery_units} ({} B) + index {delivery_units}",
        write_units(&event_item),
        item_size(&event_item),
        item_size(&log_entry),
        item_size(&delivery_item)
    );
    assert_eq!(write_units(&event_item), 2, "a 1 KiB payload and the event's attributes");
    assert_eq!(log_units, 1, "the log entry holds no payload");
    assert_eq!(delivery_units, 1, "a happy-path delivery item fits one write unit");
    // The counts: one write per endpoint per batch of 10 deliveries.
    let stats_per_delivery = per_delivery(sends as u64 * stats_units as u64);
    println!("  counts: {stats_units} unit ({} B) per endpoint per sender batch", item_size(&stats_item));
    println!(
        "  write units per delivery at fan-out 1: {}",
        (event_units + 2 * delivery_units) as f64 + stats_per_delivery
    );
    println!(
        "  write units per delivery at fan-out 10: {:.1} (each batch's 10 deliveries to one endpoint) to {:.1} (to 10)",
        (event_units as f64 + 10.0 * 2.0 * delivery_units as f64) / 10.0 + 0.1,
        (event_units as f64 + 10.0 * 2.0 * delivery_units as f64) / 10.0 + 1.0,
    );

    // Priced: every read is strongly consistent and under 4 KB, one read unit each. Lambda's
    // duration is assumed, not measured: 256 MB functions; the sender 300 ms a batch (its
    // 10 POSTs run at once, receivers answering within about 250 ms), the dispatcher and
    // the API 50 ms a call.
    let reads: u64 =
        ["GetItem", "Query", "BatchGetItem"].iter().filter_map(|op| dynamodb_used.get(op).map(|u| u.requests)).sum();
    let api_requests = EVENTS / 10;
    let gigabytes = 0.25;
    let seconds = sends as f64 * 0.3 + (dispatches + api_requests) as f64 * 0.05;
    let usage = PerDelivery {
        sqs_requests: per_delivery(sqs_billed),
        write_units: (event_units + 2 * delivery_units) as f64 + stats_per_delivery,
        read_units: per_delivery(reads),
        invocations: per_delivery((api_requests + dispatches + sends) as u64),
        api_requests: per_delivery(api_requests as u64),
        gb_seconds: gigabytes * seconds / EVENTS as f64,
    };
    assert_eq!(usage.invocations, 0.3, "one invocation per batch of 10 in each function");
    println!("per million deliveries (list prices of {PRICES_AS_OF}, us-east-1, arm64): {usage:?}");
    let lines = per_million(usage);
    for (what, dollars) in &lines {
        println!("  {what:<20} ${dollars:>6.3}");
    }
    println!("  {:<20} ${:>6.3}", "total", lines.iter().map(|(_, d)| d).sum::<f64>());
}
