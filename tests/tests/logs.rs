//! What `serve` logs: one line per delivery attempt with its outcome, as JSON when its output
//! is not a terminal (here, a pipe), with no colour codes and no secret or key.

use std::time::Duration;

use serde_json::{Value, json};
use webhooks_tests::{ADMIN_KEY, Binary, Receiver, data_dir};

fn attempts(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["fields"]["outcome"].is_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_attempt_is_one_json_line_with_its_outcome() {
    let data = data_dir();
    let service = Binary::serve(data.path(), &[], Some(ADMIN_KEY));
    let receiver = Receiver::start().await;
    receiver.script(&[500]);
    let created = service.api.create_endpoint(&receiver.url("/hook"), &["run.failed"]).await;
    let (id, secret) = (created["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned());
    service.api.send_events(json!({"type": "run.failed", "payload": {"run": 1}})).await;

    let lines = tokio::task::block_in_place(|| {
        service.printed_until(Duration::from_secs(30), |lines| attempts(lines).len() >= 2)
    });
    let seen = attempts(&lines);
    let (first, second) = (&seen[0]["fields"], &seen[1]["fields"]);
    assert_eq!(first["endpoint_id"], id.as_str());
    assert_eq!(first["event_type"], "run.failed");
    assert!(first["delivery_id"].as_str().unwrap().starts_with("del_"));
    assert_eq!((first["outcome"].clone(), first["http_status"].clone()), (json!("retrying"), json!(500)));
    assert_eq!((first["attempt"].clone(), first["max_attempts"].clone()), (json!(1), json!(6)));
    assert!(first["next_retry"].is_string(), "{first}");
    assert!(first["latency_ms"].is_u64());
    assert_eq!(first["message"], "attempt 1/6: retrying");
    assert_eq!((second["outcome"].clone(), second["http_status"].clone()), (json!("delivered"), json!(200)));
    assert_eq!(second["attempt"], 2);
    assert_eq!(second["delivery_id"], first["delivery_id"]);
    for line in &lines {
        assert!(!line.contains('\u{1b}'), "no colour codes in a pipe: {line}");
        assert!(!line.contains(ADMIN_KEY) && !line.contains(&secret), "no key or secret: {line}");
        assert!(serde_json::from_str::<Value>(line).is_ok(), "JSON, one object a line: {line}");
    }
}
