//! The Lambda entry points themselves, fed real AWS sample events (an API Gateway HTTP API
//! v2 request; SQS events with several records, one of them bad) over DynamoDB and SQS on
//! the local emulator. Each checks the response shape Lambda and API Gateway expect.

use std::time::Duration;

use lambda_http::Service;
use lambda_http::request::LambdaRequest;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use webhooks::deliveries::DeliveryStatus;
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::deliveries::store::DeliveryStore;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::EndpointStore;
use webhooks::ids::DeliveryId;
use webhooks::ports::SystemClock;
use webhooks::queues::Queue;
use webhooks::queues::messages::EventEnvelope;
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::security::api_keys::Scope;
use webhooks::security::api_keys::mint;
use webhooks::security::signing::Secret;
use webhooks::time::Timestamp;
use webhooks_aws::AwsBackend;
use webhooks_http::ReqwestSender;
use webhooks_lambda::aws_lambda_events::sqs::SqsEvent;
use webhooks_lambda::handle_sqs_event;
use webhooks_pipeline::dispatcher::Dispatcher;
use webhooks_pipeline::sender::Sender;
use webhooks_tests::Captured;
use webhooks_tests::Receiver;
use webhooks_tests::lambda_events::{self, failed_ids, http_api_request};
use webhooks_tests::local_aws::{aws_app, provisioned};

/// The sample SQS event with these records, as the runtime hands it to the function.
fn sqs_event(records: &[(&str, &str, &str)]) -> LambdaEvent<SqsEvent> {
    LambdaEvent::new(serde_json::from_value(lambda_events::sqs_event(records)).unwrap(), Context::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_function_answers_http_api_v2_requests() {
    let aws = provisioned(DeliveryPolicy::default()).await;
    let backend = AwsBackend::new(&aws.config, &aws.settings);
    let admin = mint("acme".into(), "admin".into(), vec![Scope::Admin], Timestamp::now(), None);
    backend.store.create_api_key(&admin.record, &admin.key_hash).await.unwrap();
    let app = aws_app(&backend, &aws.settings);
    let mut function = lambda_http::Adapter::from(webhooks_api::router(app));
    let mut call = async |event: Value| -> Value {
        let request: LambdaRequest = serde_json::from_value(event).unwrap();
        let response = function.call(LambdaEvent::new(request, Context::default())).await.unwrap();
        serde_json::to_value(&response).unwrap()
    };
    let body = |response: &Value| -> Value { serde_json::from_str(response["body"].as_str().unwrap()).unwrap() };

    let created = call(http_api_request(
        "POST",
        "/v1/webhooks",
        "",
        Some(&admin.key),
        Some(r#"{"url": "https://example.com/hook", "events": ["run.failed"]}"#),
    ))
    .await;
    assert_eq!(created["statusCode"], 201, "{created}");
    assert_eq!(created["headers"]["content-type"], "application/json");
    assert_eq!(created["isBase64Encoded"], false);
    let endpoint = body(&created);
    assert!(endpoint["id"].as_str().unwrap().starts_with("ep_"));
    assert_eq!(endpoint["secret"].as_str().unwrap().len(), 64);

    let listed = call(http_api_request("GET", "/v1/webhooks", "limit=1", Some(&admin.key), None)).await;
    assert_eq!(listed["statusCode"], 200);
    assert_eq!(body(&listed)["data"][0]["id"], endpoint["id"]);

    let anonymous = call(http_api_request("GET", "/v1/webhooks", "", None, None)).await;
    assert_eq!(anonymous["statusCode"], 401);
    assert_eq!(body(&anonymous)["error"]["code"], "unauthorized");

    let sent = call(http_api_request(
        "POST",
        "/v1/events",
        "",
        Some(&admin.key),
        Some(r#"{"id": "evt-lambda", "type": "run.failed", "payload": {"run": 1}}"#),
    ))
    .await;
    assert_eq!(sent["statusCode"], 202, "{sent}");
    let queued = backend.events.receive(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(queued.len(), 1);
    let envelope: EventEnvelope = serde_json::from_str(&queued[0].body).unwrap();
    assert_eq!((envelope.tenant.as_str(), envelope.id.as_deref()), ("acme", Some("evt-lambda")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatcher_function_fans_out_and_parks_the_bad_record() {
    let aws = provisioned(DeliveryPolicy::default()).await;
    let backend = AwsBackend::new(&aws.config, &aws.settings);
    let endpoint = Endpoint::new(
        "acme".into(),
        "https://example.com".into(),
        vec!["run.*".into()],
        Secret::new("s".repeat(32)),
        Timestamp::now(),
    );
    backend.store.create_endpoint(&endpoint).await.unwrap();
    let dispatcher = Dispatcher::new(
        backend.store.clone(),
        backend.deliveries.clone(),
        backend.events_dead_letters.clone(),
        Duration::ZERO,
    );
    let good = |n: u32| format!(r#"{{"tenant":"acme","id":"evt-{n}","type":"run.failed","payload":{{"n":{n}}}}}"#);
    let event = sqs_event(&[
        ("m-1", "r-1", &good(1)),
        ("m-bad", "r-2", r#"{"tenant":"acme","type":"run.failed"}"#),
        ("m-3", "r-3", &good(3)),
    ]);
    let response = handle_sqs_event(event, |batch| dispatcher.handle_batch(batch)).await.unwrap();
    let response = serde_json::to_value(&response).unwrap();
    assert_eq!(failed_ids(&response), Vec::<String>::new(), "the bad record is parked, not retried");

    let pending = backend.deliveries.receive(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(pending.len(), 2, "one delivery per good event");
    let parked = backend.events_dead_letters.receive(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(
        parked.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        [r#"{"tenant":"acme","type":"run.failed"}"#]
    );

    // A store failure is a retryable failure: reported, so Lambda leaves it on the queue.
    let broken = webhooks_aws::AwsSettings { table: "no-such-table".into(), ..aws.settings.clone() };
    let broken = AwsBackend::new(&aws.config, &broken);
    let dispatcher = Dispatcher::new(broken.store, broken.deliveries, broken.events_dead_letters, Duration::ZERO);
    let event = sqs_event(&[("m-4", "r-4", &good(4)), ("m-5", "r-5", &good(5))]);
    let response = handle_sqs_event(event, |batch| dispatcher.handle_batch(batch)).await.unwrap();
    assert_eq!(failed_ids(&serde_json::to_value(&response).unwrap()), ["m-4", "m-5"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_function_delivers_and_reports_what_must_retry() {
    let aws = provisioned(DeliveryPolicy::default()).await;
    let backend = AwsBackend::new(&aws.config, &aws.settings);
    let (healthy, failing) = (Receiver::start().await, Receiver::start().await);
    failing.always(500);
    let now = Timestamp::now();
    let mut bodies = Vec::new();
    let mut endpoints = Vec::new();
    for receiver in [&healthy, &failing] {
        let endpoint = Endpoint::new(
            "acme".into(),
            receiver.url("/hook"),
            vec!["run.failed".into()],
            Secret::new("s".repeat(32)),
            now,
        );
        backend.store.create_endpoint(&endpoint).await.unwrap();
        let pending = json!({
            "id": DeliveryId::for_event("acme", "evt-s", &endpoint.id, now),
            "tenant": "acme",
            "endpoint_id": endpoint.id,
            "event_id": "evt-s",
            "event_type": "run.failed",
            "created_at": now,
            "payload": {"run": 7},
        });
        bodies.push(pending.to_string());
        endpoints.push(endpoint);
    }
    backend.deliveries.send_batch(bodies).await.unwrap();
    // Receive as Lambda's poller does, so the receipts are real.
    let mut received = backend.deliveries.receive(10, Duration::from_secs(2)).await.unwrap();
    received.sort_by_key(|m| !m.body.contains(endpoints[0].id.as_str()));
    assert_eq!(received.len(), 2);
    let records: Vec<(&str, &str, &str)> =
        received.iter().map(|m| (m.message_id.as_str(), m.receipt.as_str(), m.body.as_str())).collect();
    let mut with_bad = records.clone();
    with_bad.push(("m-bad", "r-bad", "not a delivery"));

    let sender = Sender::new(
        backend.store.clone(),
        backend.deliveries.clone(),
        ReqwestSender::new(aws.settings.service.url_policy.clone()),
        SystemClock,
        DeliveryPolicy { schedule: vec![Duration::from_secs(2)], ..DeliveryPolicy::default() },
    );
    let response = handle_sqs_event(sqs_event(&with_bad), |batch| sender.handle_batch(batch)).await.unwrap();
    let response = serde_json::to_value(&response).unwrap();
    let mut expected = vec![received[1].message_id.clone(), "m-bad".to_owned()];
    expected.sort();
    assert_eq!(failed_ids(&response), expected);
    assert_eq!(healthy.received().len(), 1);
    assert_eq!(failing.received().len(), 1);

    let status = async |n: usize| {
        let id = DeliveryId::for_event("acme", "evt-s", &endpoints[n].id, now);
        backend.store.delivery_status("acme", &endpoints[n].id, &id).await.unwrap()
    };
    assert_eq!(status(0).await, Some(DeliveryStatus::Delivered));
    assert_eq!(status(1).await, Some(DeliveryStatus::Pending));
    assert_eq!(backend.store.get_endpoint("acme", &endpoints[1].id).await.unwrap().failure_count, 1);

    // The failed one was hidden for its backoff (2 s), then comes back for its second attempt;
    // the delivered one stays hidden until Lambda would have deleted it.
    assert!(backend.deliveries.receive(10, Duration::ZERO).await.unwrap().is_empty());
    let again = backend.deliveries.receive(10, Duration::from_secs(5)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].message_id.as_str(), again[0].receive_count), (received[1].message_id.as_str(), 2));
}

#[tokio::test]
async fn logs_are_json_lines_without_secrets_or_keys() {
    const SECRET: &str = "a-secret-that-must-never-be-logged";
    let captured = Captured::default();
    let writer = captured.clone();
    let _logging = tracing::subscriber::set_default(webhooks_lambda::json_logs(move || writer.clone()));

    let policy = DeliveryPolicy { disable_after: 1, ..DeliveryPolicy::default() };
    let aws = provisioned(policy.clone()).await;
    let backend = AwsBackend::new(&aws.config, &aws.settings);
    let admin = mint("acme".into(), "admin".into(), vec![Scope::Admin], Timestamp::now(), None);
    backend.store.create_api_key(&admin.record, &admin.key_hash).await.unwrap();
    let failing = Receiver::start().await;
    failing.always(500);
    let endpoint = Endpoint::new(
        "acme".into(),
        failing.url("/hook"),
        vec!["run.failed".into()],
        Secret::new(SECRET),
        Timestamp::now(),
    );
    backend.store.create_endpoint(&endpoint).await.unwrap();

    // The API: a bad key and a good one.
    let app = aws_app(&backend, &aws.settings);
    let mut function = lambda_http::Adapter::from(webhooks_api::router(app));
    for key in [format!("{}x", admin.key), admin.key.clone()] {
        let request = http_api_request("GET", &format!("/v1/webhooks/{}/secret", endpoint.id), "", Some(&key), None);
        let request: LambdaRequest = serde_json::from_value(request).unwrap();
        function.call(LambdaEvent::new(request, Context::default())).await.unwrap();
    }
    // The dispatcher: a message that is not an event, and one that is.
    let dispatcher = Dispatcher::new(
        backend.store.clone(),
        backend.deliveries.clone(),
        backend.events_dead_letters.clone(),
        Duration::ZERO,
    );
    let event = sqs_event(&[
        ("m-1", "r-1", r#"{"tenant":"acme","type":"run.failed","payload":{"run":1}}"#),
        ("m-2", "r-2", "{not an event"),
    ]);
    handle_sqs_event(event, |batch| dispatcher.handle_batch(batch)).await.unwrap();
    // The sender: a failure that disables the endpoint.
    let sender = Sender::new(
        backend.store.clone(),
        backend.deliveries.clone(),
        ReqwestSender::new(aws.settings.service.url_policy.clone()),
        SystemClock,
        policy,
    );
    let pending = backend.deliveries.receive(10, Duration::from_secs(2)).await.unwrap();
    assert_eq!(pending.len(), 1);
    let records: Vec<_> =
        pending.iter().map(|m| (m.message_id.as_str(), m.receipt.as_str(), m.body.as_str())).collect();
    handle_sqs_event(sqs_event(&records), |batch| sender.handle_batch(batch)).await.unwrap();
    assert!(!backend.store.get_endpoint("acme", &endpoint.id).await.unwrap().enabled);

    let logs = captured.text();
    let lines: Vec<Value> = logs.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    let messages: Vec<&str> = lines.iter().filter_map(|line| line["fields"]["message"].as_str()).collect();
    assert!(messages.contains(&"event message parked in the events DLQ"), "{messages:?}");
    assert!(messages.contains(&"endpoint disabled"), "{messages:?}");
    // A line logged while handling a delivery says which one, in its span.
    let disabled = lines.iter().find(|line| line["fields"]["message"] == "endpoint disabled").unwrap();
    let span = &disabled["span"];
    assert_eq!((span["name"].as_str(), span["tenant"].as_str()), (Some("delivery"), Some("acme")), "{disabled}");
    assert_eq!(span["endpoint_id"].as_str(), Some(endpoint.id.as_str()), "{disabled}");
    assert!(span["delivery_id"].as_str().is_some_and(|id| id.starts_with("del_")), "{disabled}");
    assert!(span["event_id"].is_string() && span["message_id"].is_string(), "{disabled}");
    let parked = lines.iter().find(|line| line["fields"]["message"] == "event message parked in the events DLQ");
    assert!(parked.is_some_and(|line| line["fields"]["message_id"].is_string()), "{parked:?}");
    assert!(lines.iter().all(|line| line["level"].is_string()));
    assert!(!logs.contains(SECRET), "a secret was logged");
    assert!(!logs.contains(&admin.key), "an API key was logged");
}
