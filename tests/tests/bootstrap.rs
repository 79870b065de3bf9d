//! The real binaries, run as Lambda runs a `bootstrap`: against a minimal Lambda Runtime
//! API, with the environment template.yaml gives them (its references resolved to the
//! emulator's table and queues), either as the workspace builds them or as `sam build`
//! does (see [`bootstrap`]). The three of them carry an event from an HTTP API request
//! to a receiver; a bootstrap missing a setting says which, and exits.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::queues::{Queue, ReceivedMessage};
use webhooks_aws::{AwsBackend, env};
use webhooks_tests::functions::{bootstrap, function_env};
use webhooks_tests::lambda_events::{failed_ids, http_api_request, sqs_event};
use webhooks_tests::local_aws::{local_aws, provisioned};
use webhooks_tests::runtime_api::{Answer, RuntimeApi};
use webhooks_tests::{Receiver, admin_key_command, seed_signature};

fn response(answer: Answer) -> Value {
    match answer {
        Answer::Response { body, .. } => body,
        other => panic!("the function failed: {other:?}"),
    }
}

fn http_body(response: &Value) -> Value {
    serde_json::from_str(response["body"].as_str().expect("a body")).unwrap()
}

/// The CloudWatch Embedded Metric Format documents among a function's log lines.
fn emf(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line.get("_aws").is_some())
        .collect()
}

/// The one message waiting on `queue`, as Lambda's event source would pass it.
async fn the_message_on(queue: &impl Queue) -> ReceivedMessage {
    let mut messages = queue.receive(10, Duration::from_secs(5)).await.unwrap();
    assert_eq!(messages.len(), 1, "one message on the queue");
    messages.remove(0)
}

fn sqs_event_of(message: &ReceivedMessage) -> Value {
    sqs_event(&[(&message.message_id, &message.receipt, &message.body)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_bootstraps_carry_an_event_from_the_api_to_a_receiver() {
    let aws = provisioned(DeliveryPolicy::default()).await;
    let env = function_env(&aws);
    let backend = AwsBackend::new(&aws.config, &aws.settings);

    // The deployed stack's first admin key, minted as docs/aws.md says.
    let key = admin_key_command(&["--aws", "--prefix", &aws.prefix], &local_aws().env()).unwrap();
    assert!(key.starts_with("whk_"), "{key}");

    let runtime = RuntimeApi::start().await;
    let receiver = Receiver::start().await;

    let api = runtime.start_function(&bootstrap("webhooks-api"), &env);
    let body = json!({"url": receiver.url("/hooks"), "events": ["run.*"]}).to_string();
    let created = response(runtime.invoke(http_api_request("POST", "/v1/webhooks", "", Some(&key), Some(&body))).await);
    assert_eq!(created["statusCode"], 201, "{created}");
    let secret = http_body(&created)["secret"].as_str().unwrap().to_owned();
    let event = r#"{"id": "evt-smoke", "type": "run.failed", "payload": {"run": 7}}"#;
    let sent = response(runtime.invoke(http_api_request("POST", "/v1/events", "", Some(&key), Some(event))).await);
    assert_eq!(sent["statusCode"], 202, "{sent}");
    let logs = api.stop();
    assert!(!logs.contains(&key) && !logs.contains(&secret), "the api function logged a key or secret");
    // Its metrics, as EMF lines in its logs, for the stack (its table's name).
    let metrics = emf(&logs);
    assert_eq!(metrics.len(), 1, "one line, after the request that accepted an event: {logs}");
    assert_eq!(metrics[0]["EventsAccepted"], 1);
    assert_eq!(metrics[0]["Stack"], aws.settings.table.as_str());
    assert_eq!(metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Webhooks");

    let dispatcher = runtime.start_function(&bootstrap("webhooks-dispatcher"), &env);
    let dispatched = response(runtime.invoke(sqs_event_of(&the_message_on(&backend.events).await)).await);
    assert_eq!(failed_ids(&dispatched), Vec::<String>::new(), "{dispatched}");
    dispatcher.stop();

    let sender = runtime.start_function(&bootstrap("webhooks-sender"), &env);
    let delivered = response(runtime.invoke(sqs_event_of(&the_message_on(&backend.deliveries).await)).await);
    assert_eq!(failed_ids(&delivered), Vec::<String>::new(), "{delivered}");
    // What it cannot process, it parks itself, with the reason, in the DLQ the template names.
    let bad = response(runtime.invoke(sqs_event(&[("m-bad", "r-bad", "not a delivery")])).await);
    assert_eq!(failed_ids(&bad), Vec::<String>::new(), "parked, not retried: {bad}");
    let parked = the_message_on(&backend.deliveries_dead_letters).await;
    assert_eq!(parked.body, "not a delivery");
    assert!(parked.reason.as_deref().unwrap_or_default().starts_with("malformed delivery message"), "{parked:?}");
    let logs = sender.stop();
    assert!(!logs.contains(&secret), "the sender logged the signing secret");
    let metrics = emf(&logs);
    assert_eq!(metrics.len(), 1, "one line, after the batch that delivered (the malformed one counts nothing): {logs}");
    assert_eq!((metrics[0]["DeliveriesDelivered"].clone(), metrics[0]["Attempts2xx"].clone()), (json!(1), json!(1)));
    assert_eq!(metrics[0]["DeliveryLatency"].as_array().map(Vec::len), Some(1), "{}", metrics[0]);

    let received = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received[0].json(), json!({"run": 7}));
    assert_eq!(received[0].header("x-webhook-event"), "run.failed");
    assert_eq!(received[0].header("x-webhook-signature"), seed_signature(&secret, &received[0].body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_missing_a_setting_names_it_and_exits() {
    let runtime = RuntimeApi::start().await;
    let only_aws: Vec<(String, String)> =
        local_aws().env().into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
    for name in ["webhooks-api", "webhooks-dispatcher", "webhooks-sender"] {
        let (succeeded, printed) = runtime.start_function(&bootstrap(name), &only_aws).wait();
        assert!(!succeeded, "{name} started without its table");
        assert!(printed.contains(env::TABLE), "{name} did not name the missing setting: {printed}");
    }
}
