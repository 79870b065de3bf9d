//! `/metrics` scraped during a run of the real `serve`: every series there from startup, and
//! the counters moving by exactly what was sent; read by the Prometheus project's own parser
//! (`tests/prometheus_parse.py`). The admin key guards it on the API's listener; on
//! `--metrics-listen`'s address it answers without one, and answers nothing else.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webhooks_tests::local_aws::python;
use webhooks_tests::{ADMIN_KEY, Api, Binary, Receiver, data_dir};

/// The samples of an exposition, by `name{label="value",...}` (labels sorted), as parsed by
/// prometheus_client; panics if it refuses the text.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let script = format!("{}/prometheus_parse.py", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the parser refused it: {}\n{text}", String::from_utf8_lossy(&output.stderr));
    let samples: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    samples
        .into_iter()
        .map(|sample| {
            let labels: BTreeMap<String, String> = serde_json::from_value(sample["labels"].clone()).unwrap();
            let labels: Vec<String> = labels.iter().map(|(name, value)| format!("{name}=\"{value}\"")).collect();
            let name = sample["name"].as_str().unwrap();
            let key = if labels.is_empty() { name.to_owned() } else { format!("{name}{{{}}}", labels.join(",")) };
            (key, sample["value"].as_f64().unwrap())
        })
        .collect()
}

async fn scrape(api: &Api) -> BTreeMap<String, f64> {
    let reply = api.get("/metrics").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    parse(reply.body.as_str().expect("text"))
}

fn value(samples: &BTreeMap<String, f64>, key: &str) -> f64 {
    *samples.get(key).unwrap_or_else(|| panic!("no sample {key} in {samples:#?}"))
}

/// What moved between two scrapes, for the counters that did.
fn moved(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after
        .iter()
        .filter(|(key, _)| key.contains("_total") || key.ends_with("_count"))
        .map(|(key, now)| (key.clone(), now - before.get(key).copied().unwrap_or(0.0)))
        .filter(|(_, delta)| *delta != 0.0)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_by_exactly_what_was_sent() {
    let data = data_dir();
    let service = Binary::serve(
        data.path(),
        &["--metrics-listen", "127.0.0.1:0", "--metrics-tenant-labels", "1", "--disable-after", "2"],
        Some(ADMIN_KEY),
    );
    let printed = tokio::task::block_in_place(|| {
        service.printed_until(Duration::from_secs(10), |lines| lines.iter().any(|l| l.starts_with("metrics on ")))
    });
    let open = printed.iter().find_map(|l| l.strip_prefix("metrics on ")).unwrap().trim_end_matches("/metrics");
    let open = Api::new(open.to_owned(), "");

    // The API's listener wants an admin key; the metrics address wants none and has nothing else.
    let anonymous = service.api.with_key("");
    assert_eq!(anonymous.get("/metrics").await.status, 401);
    let reader = service.api.with_key(&service.api.mint_key("default", &["webhooks:read"]).await);
    assert_eq!(reader.get("/metrics").await.status, 403);
    assert_eq!(service.api.get("/metrics?x=1").await.status, 400, "unknown parameters are refused");
    assert_eq!(open.get("/v1/webhooks").await.status, 404);

    let start = scrape(&open).await;
    assert_eq!(start, scrape(&service.api).await, "both addresses answer the same");
    for series in [
        "webhooks_events_accepted_total{tenant=\"_other\"}",
        "webhooks_deliveries_total{outcome=\"delivered\",tenant=\"_other\"}",
        "webhooks_deliveries_total{outcome=\"skipped\",tenant=\"_other\"}",
        "webhooks_delivery_attempts_total{status_class=\"timeout\",tenant=\"_other\"}",
        "webhooks_delivery_latency_seconds_count",
        "webhooks_delivery_latency_seconds_bucket{le=\"+Inf\"}",
        "webhooks_attempt_duration_seconds_count",
        "webhooks_queue_depth{queue=\"events\"}",
        "webhooks_queue_depth{queue=\"deliveries\"}",
        "webhooks_dead_letters{queue=\"events\"}",
        "webhooks_dead_letters{queue=\"deliveries\"}",
        "webhooks_endpoints_disabled",
    ] {
        assert_eq!(value(&start, series), 0.0, "{series} starts at 0");
    }

    let (fine, broken) = (Receiver::start().await, Receiver::start().await);
    broken.always(500);
    let good = service.api.create_endpoint(&fine.url("/ok"), &["agent.created"]).await;
    let bad = service.api.create_endpoint(&broken.url("/fail"), &["run.failed"]).await;
    let events: Vec<Value> = (1..=3).map(|n| json!({"type": "agent.created", "payload": {"n": n}})).collect();
    service.api.send_events(json!({"events": events})).await;
    service.api.send_events(json!({"type": "run.failed", "payload": {"n": 4}})).await;
    // Another tenant's event: past the one tenant label, it counts as _other.
    let other = service.api.with_key(&service.api.mint_key("acme", &["events:write"]).await);
    other.send_events(json!({"type": "agent.created", "payload": {"n": 5}})).await;

    // Two failures disable the bad endpoint: one retrying, then one failed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let end = loop {
        let now = scrape(&open).await;
        let total = |outcome: &str| {
            now.iter()
                .filter(|(key, _)| key.starts_with("webhooks_deliveries_total") && key.contains(outcome))
                .map(|(_, value)| value)
                .sum::<f64>()
        };
        if total("\"delivered\"") >= 3.0 && total("\"failed\"") >= 1.0 {
            break now;
        }
        assert!(Instant::now() < deadline, "not delivered in time: {now:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let expected: BTreeMap<String, f64> = [
        ("webhooks_events_accepted_total{tenant=\"default\"}", 4.0),
        ("webhooks_events_accepted_total{tenant=\"_other\"}", 1.0),
        ("webhooks_deliveries_total{outcome=\"delivered\",tenant=\"default\"}", 3.0),
        ("webhooks_deliveries_total{outcome=\"retrying\",tenant=\"default\"}", 1.0),
        ("webhooks_deliveries_total{outcome=\"failed\",tenant=\"default\"}", 1.0),
        ("webhooks_delivery_attempts_total{status_class=\"2xx\",tenant=\"default\"}", 3.0),
        ("webhooks_delivery_attempts_total{status_class=\"5xx\",tenant=\"default\"}", 2.0),
        ("webhooks_endpoints_auto_disabled_total{tenant=\"default\"}", 1.0),
        ("webhooks_delivery_latency_seconds_count", 3.0),
        ("webhooks_attempt_duration_seconds_count", 5.0),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    assert_eq!(moved(&start, &end), expected);
    assert_eq!(fine.received().len(), 3);
    assert_eq!(value(&end, "webhooks_endpoints_disabled"), 1.0);
    let latency_in_a_minute = value(&end, "webhooks_delivery_latency_seconds_bucket{le=\"60\"}");
    assert_eq!(latency_in_a_minute, 3.0, "{end:#?}");

    // Disabled by hand too: the gauge reads the store.
    let id = good["id"].as_str().unwrap();
    let patched = service.api.patch(&format!("/v1/webhooks/{id}"), json!({"enabled": false})).await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(value(&scrape(&open).await, "webhooks_endpoints_disabled"), 2.0);
    service.api.delete(&format!("/v1/webhooks/{}", bad["id"].as_str().unwrap())).await;
    assert_eq!(value(&scrape(&open).await, "webhooks_endpoints_disabled"), 1.0);
}

/// On DynamoDB and SQS: the gauges come from the table and the queues.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_the_gauges_read_the_table_and_the_queues() {
    let (_data, service) = Binary::serve_on_aws("metrics", &[]);
    let start = scrape(&service.api).await;
    for series in [
        "webhooks_queue_depth{queue=\"events\"}",
        "webhooks_queue_depth{queue=\"deliveries\"}",
        "webhooks_dead_letters{queue=\"events\"}",
        "webhooks_dead_letters{queue=\"deliveries\"}",
        "webhooks_endpoints_disabled",
        "webhooks_events_accepted_total",
    ] {
        assert_eq!(value(&start, series), 0.0, "{series} starts at 0");
    }
    let created = service.api.create_endpoint("https://example.com/hook", &["agent.created"]).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(service.api.patch(&format!("/v1/webhooks/{id}"), json!({"enabled": false})).await.status, 200);
    assert_eq!(value(&scrape(&service.api).await, "webhooks_endpoints_disabled"), 1.0);
    service.api.send_events(json!({"type": "agent.created", "payload": {}})).await;
    assert_eq!(value(&scrape(&service.api).await, "webhooks_events_accepted_total"), 1.0);
}
