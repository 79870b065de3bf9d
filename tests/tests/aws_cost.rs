//! What a delivery costs on AWS, counted: the happy path (typical 1 KiB JSON payloads)
//! through the API (or straight into SQS), the dispatcher and the sender on the emulator,
//! each function draining its queue in batches of 10 as Lambda does, with every DynamoDB and
//! SQS request counted by the adapters and the write units computed from the stored items'
//! sizes (the emulator reports a flat figure). For both history modes, fan-out 1 and 10, and
//! three ways in. docs/aws.md quotes the table this prints.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use webhooks::deliveries::history::History;
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::ports::SystemClock;
use webhooks::queues::Queue;
use webhooks::queues::messages::EventEnvelope;
use webhooks::security::api_keys::{ApiKeyStore, Scope, mint};
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

/// Events per run: one call of 100 when ingesting 100 per call.
const EVENTS: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Ingest {
    /// `POST /v1/events`, one event a call.
    OnePerCall,
    /// `POST /v1/events` with 100 events.
    HundredPerCall,
    /// Another service's `SendMessageBatch` to the events queue, 10 a request.
    Queue,
}

impl Ingest {
    fn label(self) -> &'static str {
        match self {
            Ingest::OnePerCall => "API, 1 per call",
            Ingest::HundredPerCall => "API, 100 per call",
            Ingest::Queue => "straight into SQS",
        }
    }
}

/// A typical event: an invoice paid, about 1 KiB of JSON, its ids and amounts its own.
fn typical_payload(n: usize) -> Value {
    let id =
        |prefix: &str, salt: usize| format!("{prefix}_{:016x}", (n * 7919 + salt).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let region = ["us-east", "eu-west", "ap-south"][n % 3];
    json!({
        "object": "invoice",
        "id": id("in", 1),
        "customer": {"id": id("cus", 2), "email": format!("billing+{n}@customer-{}.example.com", n % 97), "name": format!("Customer {n}")},
        "subscription": id("sub", 3),
        "status": "paid",
        "currency": "usd",
        "amount_due": 1000 + n * 37 % 9000,
        "amount_paid": 1000 + n * 37 % 9000,
        "created": 1_760_000_000 + n * 61,
        "period": {"start": 1_757_400_000 + n * 61, "end": 1_760_000_000 + n * 61},
        "lines": [
            {"id": id("il", 4), "description": "Pro plan (monthly)", "quantity": 1 + n % 5, "amount": 900 + n % 300, "price": id("price", 5)},
            {"id": id("il", 6), "description": "Additional seats", "quantity": n % 12, "amount": 300 * (n % 12), "price": id("price", 7)},
        ],
        "hosted_invoice_url": format!("https://pay.example.com/invoice/{}/{}", id("acct", 8), id("tok", 9)),
        "metadata": {"order_id": format!("ORD-{:08}", n * 13), "region": region, "plan": "pro"},
        "payment": {"method": id("pm", 10), "brand": "visa", "last4": format!("{:04}", n * 31 % 10000), "captured_at": format!("2026-12-07T{:02}:{:02}:{:02}Z", n % 24, n % 60, n * 7 % 60)},
    })
}

/// Receives batches of 10 and deletes what the handler did not report failed, as Lambda's
/// event source mapping does, until the queue is empty; answers the batches (invocations).
async fn drain_like_lambda<Q, H, Fut>(queue: &Q, max_batches: usize, handle_batch: H) -> usize
where
    Q: Queue,
    H: Fn(Vec<webhooks::queues::ReceivedMessage>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let mut invocations = 0;
    while invocations < max_batches {
        let batch = queue.receive(10, Duration::ZERO).await.unwrap();
        if batch.is_empty() {
            break;
        }
        invocations += 1;
        let receipts: Vec<String> = batch.iter().map(|m| m.receipt.clone()).collect();
        let failed = handle_batch(batch).await;
        assert!(failed.is_empty(), "the happy path fails nothing: {failed:?}");
        queue.delete_batch(receipts).await.unwrap();
    }
    invocations
}

/// What one run used, per delivery.
struct Measured {
    usage: PerDelivery,
    /// Requests by operation, per delivery.
    requests: BTreeMap<&'static str, f64>,
    /// Write units by what was written, per delivery.
    units: BTreeMap<&'static str, f64>,
}

fn write_units(item: &std::collections::HashMap<String, AttributeValue>) -> u64 {
    item_size(item).div_ceil(1024) as u64
}

async fn run(history: History, fan_out: usize, ingest: Ingest) -> Measured {
    let mut aws = provisioned(DeliveryPolicy::default()).await;
    aws.settings.service.history = history;
    let backend = AwsBackend::new(&aws.config, &aws.settings);
    let receiver = Receiver::start().await;
    for n in 0..fan_out {
        let endpoint = Endpoint::new(
            "acme".into(),
            receiver.url(&format!("/hook/{n}")),
            vec!["run.failed".into()],
            Secret::new("s".repeat(64)),
            Timestamp::now(),
        );
        backend.store.create_endpoint(&endpoint).await.unwrap();
    }
    let key = mint("acme".into(), "producer".into(), vec![Scope::EventsWrite], Timestamp::now(), None);
    backend.store.create_api_key(&key.record, &key.key_hash).await.unwrap();
    let app = aws_app(&backend, &aws.settings);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = Api::new(format!("http://{}", listener.local_addr().unwrap()), &key.key);
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
    )
    .with_history(history);
    let (dynamodb, sqs) = (backend.store.usage().clone(), backend.events.usage().clone());
    dynamodb.reset();
    sqs.reset();

    let events: Vec<Value> = (0..EVENTS)
        .map(|n| json!({"id": format!("evt-{n}"), "type": "run.failed", "payload": typical_payload(n)}))
        .collect();
    let api_calls = match ingest {
        Ingest::OnePerCall => {
            for event in &events {
                api.send_events(event.clone()).await;
            }
            EVENTS
        }
        Ingest::HundredPerCall => {
            assert_eq!(api.send_events(json!({"events": events})).await.len(), EVENTS);
            1
        }
        Ingest::Queue => {
            for chunk in events.chunks(10) {
                let bodies = chunk
                    .iter()
                    .map(|event| {
                        let envelope = EventEnvelope {
                            tenant: "acme".into(),
                            id: event["id"].as_str().map(str::to_owned),
                            event_type: "run.failed".into(),
                            entity_id: None,
                            payload: serde_json::value::to_raw_value(&event["payload"]).unwrap(),
                            received_at: None,
                            dispatched_from: None,
                            traceparent: None,
                        };
                        serde_json::to_string(&envelope).unwrap()
                    })
                    .collect();
                backend.events.send_batch(bodies).await.unwrap();
            }
            0
        }
    };
    // One dispatcher batch, then the sender drains what it made: the deliveries queue stays
    // short (the emulator slows with depth), and each sender batch is what a Lambda gets.
    let (mut dispatches, mut sends) = (0, 0);
    // The endpoints each sender batch holds, told apart: a batch reads each of them once.
    let endpoint_reads = std::sync::atomic::AtomicUsize::new(0);
    let send = |batch: Vec<webhooks::queues::ReceivedMessage>| {
        let endpoints: std::collections::HashSet<String> = batch
            .iter()
            .map(|message| serde_json::from_str::<Value>(&message.body).unwrap()["endpoint_id"].to_string())
            .collect();
        endpoint_reads.fetch_add(endpoints.len(), std::sync::atomic::Ordering::Relaxed);
        sender.handle_batch(batch)
    };
    loop {
        let dispatched = drain_like_lambda(&backend.events, 1, |batch| dispatcher.handle_batch(batch)).await;
        if dispatched == 0 {
            break;
        }
        dispatches += dispatched;
        sends += drain_like_lambda(&backend.deliveries, usize::MAX, send).await;
    }
    let deliveries = EVENTS * fan_out;
    assert_eq!(receiver.received().len(), deliveries, "every delivery made once");

    // Write units from what the table holds: each event's item and log entry, each kept
    // delivery's item and its listing-index entry (written once each on the happy path),
    // and the counts' items, written once per endpoint per sender batch.
    let client = aws_sdk_dynamodb::Client::new(&aws.config);
    let mut units: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut delivery_items, mut stats_items) = (0, 0);
    let mut start = None;
    loop {
        let page = client.scan().table_name(&aws.settings.table).set_exclusive_start_key(start).send().await.unwrap();
        for item in page.items() {
            let (pk, sk) = (item[PARTITION_KEY].as_s().unwrap(), item[SORT_KEY].as_s().unwrap());
            let kind = if sk == EVENT_SORT_KEY {
                "event"
            } else if *pk == event_log_partition("acme") {
                "event log entry"
            } else if pk.starts_with(&delivery_partition("acme", "")) {
                delivery_items += 1;
                *units.entry("delivery's index entry").or_default() += write_units(item);
                "delivery"
            } else if pk.starts_with(&stats_partition("acme", "")) {
                stats_items += 1;
                assert_eq!(write_units(item), 1, "an hour's counts fit one write unit");
                continue;
            } else {
                continue;
            };
            *units.entry(kind).or_default() += write_units(item);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    let dynamodb_used = dynamodb.snapshot();
    let kept = if history == History::All { deliveries } else { 0 };
    assert_eq!(delivery_items, kept, "{history:?} keeps {kept} deliveries of {deliveries}");
    assert_eq!(units["event"], EVENTS as u64, "a typical 1 KiB event's item is one write unit");
    assert_eq!(units["event log entry"], EVENTS as u64);
    // Every UpdateItem is a delivery's item or an endpoint's counts.
    let count_writes = dynamodb_used["UpdateItem"].requests - delivery_items as u64;
    assert!(stats_items <= fan_out && count_writes >= stats_items as u64);
    units.insert("endpoint counts", count_writes);
    // Per event its item and its log entry: the only PutItems.
    assert_eq!(dynamodb_used["PutItem"].requests, 2 * EVENTS as u64);
    // No delivery's status is read on its first receive, and a sender batch reads each of
    // its endpoints and payloads once: the GetItems are the API key's (once per call), the
    // tenant's subscriptions version (once per dispatcher batch), each event's payload, and
    // each sender batch's endpoints.
    let get_items = dynamodb_used.get("GetItem").map_or(0, |u| u.requests);
    let endpoint_reads = endpoint_reads.into_inner();
    assert!(endpoint_reads <= sends * fan_out.min(10));
    assert_eq!(get_items as usize, api_calls + dispatches + EVENTS + endpoint_reads);

    let sqs_used = sqs.snapshot();
    let sqs_billed: u64 = sqs_used.iter().filter(|(op, _)| **op != EMPTY_RECEIVE).map(|(_, u)| u.requests).sum();
    assert!(!sqs_used.contains_key("ChangeMessageVisibility"), "no retries on the happy path");
    let per_delivery = |count: u64| count as f64 / deliveries as f64;
    let reads: u64 =
        ["GetItem", "Query", "BatchGetItem"].iter().filter_map(|op| dynamodb_used.get(op).map(|u| u.requests)).sum();
    // Lambda's duration is assumed, not measured (the emulator is slow): 256 MB functions;
    // the sender 300 ms a batch (its 10 POSTs at once, receivers answering within 250 ms),
    // the dispatcher and the API 50 ms a call.
    let seconds = sends as f64 * 0.3 + (dispatches + api_calls) as f64 * 0.05;
    let usage = PerDelivery {
        sqs_requests: per_delivery(sqs_billed),
        write_units: per_delivery(units.values().sum()),
        read_units: per_delivery(reads),
        invocations: per_delivery((api_calls + dispatches + sends) as u64),
        api_requests: per_delivery(api_calls as u64),
        gb_seconds: 0.25 * seconds / deliveries as f64,
    };
    let requests = sqs_used
        .iter()
        .chain(dynamodb_used.iter())
        .map(|(operation, used)| (*operation, per_delivery(used.requests)))
        .collect();
    let units = units.into_iter().map(|(kind, units)| (kind, per_delivery(units))).collect();
    Measured { usage, requests, units }
}

fn dollars(usage: PerDelivery) -> f64 {
    per_million(usage).iter().map(|(_, dollars)| dollars).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_deliveries_cost_what_the_docs_say() {
    println!(
        "per million deliveries, list prices of {PRICES_AS_OF} (us-east-1, arm64, on demand), {EVENTS} events of ~1 KiB JSON:"
    );
    println!(
        "| history | fan-out | ingestion | total | SQS | DynamoDB writes | reads | Lambda | API | write units per delivery |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut totals = BTreeMap::new();
    for history in [History::All, History::Failures] {
        // At fan-out 10 the way in is a tenth of each delivery's cost: one way is enough.
        let runs =
            [(1, Ingest::OnePerCall), (1, Ingest::HundredPerCall), (1, Ingest::Queue), (10, Ingest::HundredPerCall)];
        {
            for (fan_out, ingest) in runs {
                let measured = run(history, fan_out, ingest).await;
                let lines = per_million(measured.usage);
                let line = |name: &str| lines.iter().find(|(what, _)| *what == name).unwrap().1;
                let total = dollars(measured.usage);
                let units: Vec<String> =
                    measured.units.iter().map(|(kind, units)| format!("{kind} {units:.2}")).collect();
                println!(
                    "| {} | {fan_out} | {} | ${total:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | {:.2}: {} |",
                    history.as_str(),
                    ingest.label(),
                    line("SQS requests"),
                    line("DynamoDB writes"),
                    line("DynamoDB reads"),
                    line("Lambda invocations") + line("Lambda duration"),
                    line("HTTP API requests"),
                    measured.usage.write_units,
                    units.join(", "),
                );
                if fan_out == 1 && ingest == Ingest::HundredPerCall {
                    let requests: Vec<String> =
                        measured.requests.iter().map(|(op, n)| format!("{op} {n:.2}")).collect();
                    println!("|  |  | requests per delivery: {} |  |  |  |  |  |  |  |", requests.join(", "));
                }
                totals.insert((history.as_str(), fan_out, ingest.label()), total);
            }
        }
    }
    // What `failures` saves is the delivery's item and its index entry, on every path.
    for (history, fan_out, ingest) in totals.keys().filter(|(history, _, _)| *history == "failures") {
        let saved = totals[&("all", *fan_out, *ingest)] - totals[&(*history, *fan_out, *ingest)];
        assert!(saved > 1.2, "{fan_out} {ingest}: saves ${saved:.2}");
    }
}
