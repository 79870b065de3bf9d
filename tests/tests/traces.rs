//! Traces over OTLP/HTTP from the real `serve` to a local collector that decodes them with the
//! OpenTelemetry project's own messages (`tests/otlp_receiver.py`): an event sent with a W3C
//! `traceparent` has its request, acceptance, fan-out and attempt in the caller's trace, each
//! the child of the one before across both queues; an event sent without one gets a trace
//! of its own, with the same four stages.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver as Lines, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webhooks_tests::local_aws::python;
use webhooks_tests::{ADMIN_KEY, Binary, Receiver, data_dir};

struct Collector {
    child: Child,
    port: u16,
    spans: Lines<Value>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

impl Collector {
    fn start() -> Self {
        let script = format!("{}/otlp_receiver.py", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new(python()).arg(script).stdout(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines.next().unwrap().unwrap().trim().parse().unwrap();
        let (sender, spans) = channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if sender.send(serde_json::from_str(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        Collector { child, port, spans }
    }

    /// Every span received until `enough` holds for them; panics after 30 s.
    fn until(&self, seen: &mut Vec<Value>, enough: impl Fn(&[Value]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !enough(seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            seen.push(self.spans.recv_timeout(left).unwrap_or_else(|_| panic!("spans so far: {seen:#?}")));
        }
    }
}

fn named<'a>(spans: &'a [Value], trace: &str, name: &str) -> Vec<&'a Value> {
    spans.iter().filter(|s| s["trace_id"] == trace && s["name"] == name).collect()
}

/// The four stages of one event's trace, each the child of the one before.
fn stages<'a>(spans: &'a [Value], trace: &str) -> [&'a Value; 4] {
    let one = |name: &str| {
        let found = named(spans, trace, name);
        assert_eq!(found.len(), 1, "one {name} in {trace}: {spans:#?}");
        found[0]
    };
    let (request, accepted, fan_out, attempt) =
        (one("POST /v1/events"), one("event accepted"), one("fan-out"), one("attempt"));
    assert_eq!(accepted["parent_span_id"], request["span_id"]);
    assert_eq!(fan_out["parent_span_id"], accepted["span_id"], "across the events queue");
    assert_eq!(attempt["parent_span_id"], fan_out["span_id"], "across the deliveries queue");
    [request, accepted, fan_out, attempt]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_events_way_is_one_trace_across_the_queues() {
    let collector = Collector::start();
    let data = data_dir();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://127.0.0.1:{}", collector.port)),
        ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20collector-token".to_owned()),
    ];
    let service = Binary::serve_with_env(data.path(), &[], Some(ADMIN_KEY), &env);
    let receiver = Receiver::start().await;
    let created = service.api.create_endpoint(&receiver.url("/hooks?token=secret-in-query"), &["run.failed"]).await;
    let endpoint_id = created["id"].as_str().unwrap().to_owned();

    // The caller's trace, continued.
    let (caller_trace, caller_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let sent = reqwest::Client::new()
        .post(format!("{}/v1/events", service.api.base))
        .bearer_auth(ADMIN_KEY)
        .header("traceparent", format!("00-{caller_trace}-{caller_span}-01"))
        .json(&json!({"type": "run.failed", "payload": {"n": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 202);
    receiver.wait_for(1, Duration::from_secs(20)).await;
    let mut spans = Vec::new();
    collector.until(&mut spans, |spans| named(spans, caller_trace, "attempt").len() == 1);
    let [request, accepted, _, attempt] = stages(&spans, caller_trace);
    assert_eq!(request["parent_span_id"], caller_span, "the caller's span is the request's parent");
    assert_eq!(request["kind"], 2, "server");
    assert_eq!(request["attributes"]["http.response.status_code"], 202);
    assert_eq!(request["attributes"]["http.route"], "/v1/events");
    assert_eq!(accepted["attributes"]["webhooks.event_type"], "run.failed");
    assert_eq!(attempt["kind"], 3, "client");
    let attributes = &attempt["attributes"];
    assert_eq!(attributes["webhooks.endpoint_id"], endpoint_id.as_str());
    assert!(attributes["webhooks.delivery_id"].as_str().unwrap().starts_with("del_"), "{attributes}");
    assert_eq!(attributes["http.response.status_code"], 200);
    assert_eq!(attributes["url.full"], receiver.url("/hooks"), "without its query");
    assert!(attempt["end"].as_u64() >= attempt["start"].as_u64());
    assert_eq!(attempt["service"], "webhooks");
    assert_eq!(attempt["authorization"], "Bearer collector-token", "OTEL_EXPORTER_OTLP_HEADERS sent");

    // No traceparent: a trace of its own, with every stage.
    service.api.send_events(json!({"type": "run.failed", "payload": {"n": 2}})).await;
    collector.until(&mut spans, |spans| {
        spans.iter().filter(|s| s["name"] == "attempt" && s["trace_id"] != caller_trace).count() == 1
    });
    let own = spans.iter().find(|s| s["name"] == "attempt" && s["trace_id"] != caller_trace).unwrap();
    let [request, ..] = stages(&spans, own["trace_id"].as_str().unwrap());
    assert_eq!(request["parent_span_id"], "", "a root");
    let text = serde_json::to_string(&spans).unwrap();
    assert!(!text.contains(ADMIN_KEY) && !text.contains("secret-in-query"), "no key, no query string");
}
