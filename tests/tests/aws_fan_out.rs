//! The dispatcher's wide fan-out on AWS, counted: one event to every endpoint of a tenant
//! (200 here, `WEBHOOKS_FAN_OUT_ENDPOINTS` for more: the emulator writes an endpoint in
//! about 0.1 s, so a tenant's most, 10,000, is left to the formula this holds), handled by
//! the real dispatcher on the emulator. Holds that every endpoint gets its one pending delivery and that the requests
//! are what a fan-out should cost (the subscriptions read in pages, one `SendMessageBatch`
//! per 10 deliveries); prints the time and the requests by kind (the emulator's time is
//! relative only).

use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::patterns::patterns_matching;
use webhooks::queues::Queue;
use webhooks::queues::messages::DeliveryMessage;
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_aws::AwsBackend;
use webhooks_pipeline::dispatcher::Dispatcher;
use webhooks_tests::local_aws::provisioned;

fn endpoints() -> usize {
    std::env::var("WEBHOOKS_FAN_OUT_ENDPOINTS").ok().and_then(|n| n.parse().ok()).unwrap_or(200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_event_reaches_every_endpoint_in_a_request_per_ten() {
    let count = endpoints();
    let aws = provisioned(DeliveryPolicy::default()).await;
    let backend = AwsBackend::new(&aws.config, &aws.settings);
    let started = Instant::now();
    // One at a time: the emulator fails transactions that race.
    let created = stream::iter(0..count)
        .map(|n| {
            let endpoint = Endpoint::new(
                "acme".into(),
                format!("https://hooks.example.com/{n}"),
                vec!["run.failed".into()],
                Secret::new("s".repeat(64)),
                Timestamp::now(),
            );
            let store = backend.store.clone();
            async move { store.create_endpoint(&endpoint).await }
        })
        .buffer_unordered(1);
    created.for_each(|outcome| async { outcome.unwrap() }).await;
    println!("{count} endpoints created in {:.1} s", started.elapsed().as_secs_f64());

    let dispatcher = Dispatcher::new(
        backend.store.clone(),
        backend.deliveries.clone(),
        backend.events_dead_letters.clone(),
        aws.settings.service.subscription_cache,
    );
    let event = r#"{"tenant":"acme","id":"evt-wide","type":"run.failed","payload":{"n":1}}"#;
    backend.events.send_batch(vec![event.to_owned()]).await.unwrap();
    let batch = backend.events.receive(10, Duration::ZERO).await.unwrap();
    assert_eq!(batch.len(), 1);
    let (dynamodb, sqs) = (backend.store.usage().clone(), backend.events.usage().clone());
    dynamodb.reset();
    sqs.reset();

    let started = Instant::now();
    let failed = dispatcher.handle_batch(batch).await;
    let took = started.elapsed();
    assert!(failed.is_empty(), "{failed:?}");

    let (dynamodb, sqs) = (dynamodb.snapshot(), sqs.snapshot());
    println!("one event to {count} endpoints: dispatched in {:.2} s on the emulator", took.as_secs_f64());
    for (service, used) in [("DynamoDB", &dynamodb), ("SQS", &sqs)] {
        for (operation, usage) in used {
            println!("  {service} {operation}: {}", usage.requests);
        }
    }
    assert_eq!(sqs["SendMessageBatch"].requests as usize, count.div_ceil(10), "ten deliveries a request");
    // The subscription index holds only ids: a query per pattern that could match the type
    // ("run.failed", "run.*", "*") reads 10,000 of them in one page; then the endpoints, 100 a
    // request.
    assert_eq!(dynamodb["Query"].requests as usize, patterns_matching("run.failed").len());
    assert_eq!(dynamodb["BatchGetItem"].requests as usize, count.div_ceil(100));

    // Every endpoint has its one pending delivery.
    let mut seen = std::collections::HashSet::new();
    loop {
        let messages = backend.deliveries.receive(10, Duration::ZERO).await.unwrap();
        if messages.is_empty() {
            break;
        }
        for message in &messages {
            let delivery: DeliveryMessage = serde_json::from_str(&message.body).unwrap();
            assert!(seen.insert(delivery.endpoint_id.clone()), "one delivery per endpoint");
        }
        backend.deliveries.delete_batch(messages.into_iter().map(|m| m.receipt).collect()).await.unwrap();
    }
    assert_eq!(seen.len(), count);
}
