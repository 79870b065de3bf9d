//! End to end: events in through the API, signed deliveries out to a real local receiver.

use std::time::Duration;

use serde_json::json;
use webhooks_tests::{Receiver, Service, seed_signature};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_the_payload_byte_for_byte_with_every_contract_header() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let created = service.api.create_endpoint(&receiver.url("/hook"), &["playground.created"]).await;
    let secret = created["secret"].as_str().unwrap();

    // Odd spacing and key order: the receiver must get exactly these bytes.
    let raw = br#"{"type":"playground.created","entity_id":42,"payload":{ "b" : 1,"a":[1, 2],"s":"caf\u00e9"}}"#;
    let reply = service.api.raw("POST", "/v1/events", raw.to_vec()).await;
    assert_eq!(reply.status, 202, "{:?}", reply.body);

    let got = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(&got.body[..], br#"{ "b" : 1,"a":[1, 2],"s":"caf\u00e9"}"#);
    assert_eq!(got.path, "/hook");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("x-webhook-event"), "playground.created");
    assert!(got.header("user-agent").starts_with("Webhooks/"));
    let delivery_id = got.header("x-webhook-delivery");
    assert!(delivery_id.starts_with("del_"));
    assert_eq!(got.header("x-webhook-id"), delivery_id);
    assert_eq!(got.header("webhook-id"), delivery_id);
    assert!(webhooks::time::Timestamp::parse_rfc3339(got.header("x-webhook-timestamp")).is_some());
    let unix: i64 = got.header("webhook-timestamp").parse().unwrap();
    assert!((unix - webhooks::time::Timestamp::now().unix_seconds()).abs() < 60);
    assert_eq!(got.header("x-webhook-signature"), seed_signature(secret, &got.body));
    assert!(got.header("webhook-signature").starts_with("v1,"));
    assert_eq!(got.header("x-webhook-signature-next"), "", "no rotation in progress");
}

/// The Standard Webhooks reference library (PyPI `standardwebhooks`) verifies our signature
/// with the `standard_webhooks_secret` from the API, unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_webhooks_reference_library_verifies_deliveries() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let whsec = created["standard_webhooks_secret"].as_str().unwrap().to_owned();
    service.api.send_events(json!({"type": "run.failed", "payload": {"run_id": "run_1", "note": "ünïcode"}})).await;
    let got = receiver.wait_for(1, WAIT).await.remove(0);

    let verify = |secret: &str, body: &[u8]| {
        let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
args = json.loads(sys.stdin.read())
Webhook(args["secret"]).verify(bytes.fromhex(args["body"]), args["headers"])
print("verified")
"#;
        let input = json!({
            "secret": secret,
            "body": hex::encode(body),
            "headers": {
                "webhook-id": got.header("webhook-id"),
                "webhook-timestamp": got.header("webhook-timestamp"),
                "webhook-signature": got.header("webhook-signature"),
            },
        });
        let python = webhooks_tests::local_aws::python();
        let mut child = std::process::Command::new(&python)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{python} (run scripts/test to set up the venv): {e}"));
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        (
            String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (out, err) = verify(&whsec, &got.body);
    assert_eq!(out, "verified", "{err}");
    // And it refuses a tampered body, so the check above can fail.
    let mut tampered = got.body.to_vec();
    tampered.push(b' ');
    let (out, err) = verify(&whsec, &tampered);
    assert_ne!(out, "verified");
    assert!(err.contains("WebhookVerificationError"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_retried_and_then_delivered_with_the_same_delivery_id() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    receiver.script(&[500]);
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.completed"]).await;
    let id = created["id"].as_str().unwrap();
    service.api.send_events(json!({"type": "run.completed", "payload": {"n": 1}})).await;

    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[0].header("x-webhook-delivery"), got[1].header("x-webhook-delivery"));
    let gap = got[1].at - got[0].at;
    assert!(gap >= Duration::from_millis(850), "retried after {gap:?}, before the 1 s backoff");
    let list = service
        .api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries"), WAIT, |b| b["data"][0]["status"] == "delivered")
        .await;
    let delivery = &list["data"][0];
    assert_eq!(delivery["attempts"], 2);
    assert_eq!(delivery["http_status"], 200);
    assert!(delivery["delivered_at"].is_string());
    let detail = service.api.get(&format!("/v1/webhooks/{id}/deliveries/{}", delivery["id"].as_str().unwrap())).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.body["payload"], json!({"n": 1}));
    let log = detail.body["attempt_log"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["http_status"], 500);
    assert_eq!(log[1]["http_status"], 200);
    // The failure count went up, then a success reset it.
    let endpoint = service.api.get(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(endpoint.body["failure_count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_consecutive_failures_disable_the_endpoint_and_reenabling_resets_it() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    receiver.always(503);
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let id = created["id"].as_str().unwrap();
    let events: Vec<_> = (0..10).map(|i| json!({"type": "run.failed", "payload": {"i": i}})).collect();
    service.api.send_events(json!({"events": events})).await;

    let endpoint = service.api.wait_until(&format!("/v1/webhooks/{id}"), WAIT, |b| b["enabled"] == false).await;
    assert!(endpoint["failure_count"].as_u64().unwrap() >= 10);
    assert!(endpoint["disabled_reason"].as_str().unwrap().contains("10 consecutive failed"));

    // Disabled: new events are not sent, but leave a trace: a failed delivery with the reason.
    let before = receiver.received().len();
    let sent = service.api.send_events(json!({"type": "run.failed", "payload": {"after": true}})).await;
    receiver.assert_stays_at(before, Duration::from_millis(1500)).await;
    let history = format!("/v1/webhooks/{id}/deliveries?status=failed");
    let failed = service
        .api
        .wait_until(&history, WAIT, |b| b["data"].as_array().unwrap().iter().any(|d| d["event_id"] == sent[0].as_str()))
        .await;
    let missed = failed["data"].as_array().unwrap().iter().find(|d| d["event_id"] == sent[0].as_str()).unwrap().clone();
    assert_eq!(missed["attempts"], 0);
    assert_eq!(missed["last_error"], "not sent: endpoint disabled: 10 consecutive failed deliveries");

    let enabled = service.api.patch(&format!("/v1/webhooks/{id}"), json!({"enabled": true})).await;
    assert_eq!(enabled.status, 200);
    assert_eq!(enabled.body["enabled"], true);
    assert_eq!(enabled.body["failure_count"], 0);
    assert_eq!(enabled.body["disabled_reason"], json!(null));

    // Once enabled again, what it missed can be sent with a manual retry.
    receiver.always(200);
    let retry = format!("/v1/webhooks/{id}/deliveries/{}/retry", missed["id"].as_str().unwrap());
    assert_eq!(service.api.post(&retry, json!({})).await.status, 202);
    let got = receiver.wait_for(before + 1, WAIT).await;
    assert_eq!(got[before].json(), json!({"after": true}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_filters_and_wildcards_choose_the_receivers() {
    let service = Service::start().await;
    let filtered = Receiver::start().await;
    let family = Receiver::start().await;
    let everything = Receiver::start().await;
    let unrelated = Receiver::start().await;
    service
        .api
        .create_endpoint_with(json!({
            "url": filtered.url("/"),
            "events": ["playground.created", "agent.updated"],
            "event_filters": {"playground.created": [1, "2"], "agent.updated": []},
        }))
        .await;
    service.api.create_endpoint(&family.url("/"), &["playground.*"]).await;
    service.api.create_endpoint(&everything.url("/"), &["*"]).await;
    service.api.create_endpoint(&unrelated.url("/"), &["run.failed"]).await;

    let events = json!({"events": [
        {"id": "e1", "type": "playground.created", "entity_id": 1, "payload": {"e": 1}},
        {"id": "e2", "type": "playground.created", "entity_id": 3, "payload": {"e": 2}},
        {"id": "e3", "type": "playground.created", "entity_id": 2, "payload": {"e": 3}},
        {"id": "e4", "type": "agent.updated", "entity_id": 99, "payload": {"e": 4}},
        {"id": "e5", "type": "playground.status.changed", "entity_id": 1, "payload": {"e": 5}},
        {"id": "e6", "type": "playground.created", "payload": {"e": 6}},
        // Seed 000's payload format: the entity at the payload's top level.
        {"id": "e7", "type": "playground.created", "payload": {"e": 7, "entity_type": "Playground", "entity_id": 2}},
        {"id": "e8", "type": "playground.created", "payload": {"e": 8, "entity_id": 3}},
        {"id": "e9", "type": "playground.created", "entity_id": 3, "payload": {"e": 9, "entity_id": 1}},
    ]});
    service.api.send_events(events).await;

    everything.wait_for(9, WAIT).await;
    let seen = |r: &Receiver| {
        let mut ids: Vec<i64> = r.received().iter().map(|g| g.json()["e"].as_i64().unwrap()).collect();
        ids.sort();
        ids
    };
    family.wait_for(8, WAIT).await;
    filtered.wait_for(4, WAIT).await;
    unrelated.assert_stays_at(0, Duration::from_millis(500)).await;
    assert_eq!(
        seen(&filtered),
        [1, 3, 4, 7],
        "ids 1 and \"2\" of playground.created (the event's own entity_id first, else the payload's), every agent.updated"
    );
    assert_eq!(seen(&family), [1, 2, 3, 5, 6, 7, 8, 9]);
    assert_eq!(seen(&everything), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_event_id_is_accepted_but_delivered_once() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    service.api.create_endpoint(&receiver.url("/"), &["run.completed"]).await;
    let event = json!({"id": "order-7", "type": "run.completed", "payload": {"v": 1}});
    assert_eq!(service.api.send_events(event.clone()).await, ["order-7"]);
    receiver.wait_for(1, WAIT).await;
    assert_eq!(service.api.send_events(event).await, ["order-7"]);
    receiver.assert_stays_at(1, Duration::from_millis(1500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_last_retry_the_delivery_is_failed_in_the_history_not_in_the_dlq() {
    let service = Service::start_with(|config| config.settings.policy = webhooks_tests::fast_policy(2)).await;
    let receiver = Receiver::start().await;
    receiver.always(500);
    receiver.respond_with_body("x".repeat(10_000));
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let id = created["id"].as_str().unwrap();
    service.api.send_events(json!({"type": "run.failed", "payload": {}})).await;

    receiver.wait_for(3, WAIT).await;
    let list = service
        .api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=failed"), WAIT, |b| {
            b["data"].as_array().unwrap().len() == 1
        })
        .await;
    let delivery = &list["data"][0];
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["next_retry_at"], json!(null));
    assert_eq!(delivery["last_error"], "receiver answered HTTP 500");
    let detail = service.api.get(&format!("/v1/webhooks/{id}/deliveries/{}", delivery["id"].as_str().unwrap())).await;
    let body = detail.body["attempt_log"][0]["response_body"].as_str().unwrap();
    assert_eq!(body.len(), 4096, "only the first 4 KiB of the response is kept");

    receiver.assert_stays_at(3, Duration::from_millis(1500)).await;
    let dlq = service.api.get("/v1/dead-letters/deliveries").await;
    assert_eq!(dlq.body["depth"], 0, "the DLQ is for what the pipeline could not handle");

    // A manual retry sends it again, with the same delivery id.
    receiver.always(200);
    let retried = service
        .api
        .post(&format!("/v1/webhooks/{id}/deliveries/{}/retry", delivery["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(retried.status, 202, "{:?}", retried.body);
    let got = receiver.wait_for(4, WAIT).await;
    assert_eq!(got[3].header("x-webhook-delivery"), delivery["id"].as_str().unwrap());
    service
        .api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=delivered"), WAIT, |b| b["data"][0]["attempts"] == 4)
        .await;
    // A delivered one can be sent again too (`/resend`), once per ask.
    let again = service
        .api
        .post(&format!("/v1/webhooks/{id}/deliveries/{}/resend", delivery["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(again.status, 202, "{:?}", again.body);
    let got = receiver.wait_for(5, WAIT).await;
    assert_eq!(got[4].header("x-webhook-delivery"), delivery["id"].as_str().unwrap());
    receiver.assert_stays_at(5, Duration::from_millis(1000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_signs_with_both_secrets_during_the_overlap() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.completed"]).await;
    let id = created["id"].as_str().unwrap();
    let old = created["secret"].as_str().unwrap().to_owned();

    let rotated = service.api.post(&format!("/v1/webhooks/{id}/secret/rotate"), json!({})).await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated.body["previous_secret_expires_at"].is_string());
    let shown = service.api.get(&format!("/v1/webhooks/{id}/secret")).await;
    assert_eq!(shown.body["secret"], new.as_str());

    service.api.send_events(json!({"type": "run.completed", "payload": {"r": 1}})).await;
    let got = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(got.header("x-webhook-signature"), seed_signature(&old, &got.body));
    assert_eq!(got.header("x-webhook-signature-next"), seed_signature(&new, &got.body));
    let signatures: Vec<&str> = got.header("webhook-signature").split(' ').collect();
    assert_eq!(signatures.len(), 2);

    // Ending the overlap at once: only the new secret signs.
    let ended = service
        .api
        .post(
            &format!("/v1/webhooks/{id}/secret/rotate"),
            json!({"secret": "a-custom-secret-of-decent-length", "overlap_seconds": 0}),
        )
        .await;
    assert_eq!(ended.status, 200);
    assert_eq!(ended.body["previous_secret_expires_at"], json!(null));
    service.api.send_events(json!({"type": "run.completed", "payload": {"r": 2}})).await;
    let got = receiver.wait_for(2, WAIT).await.remove(1);
    assert_eq!(got.header("x-webhook-signature"), seed_signature("a-custom-secret-of-decent-length", &got.body));
    assert_eq!(got.header("x-webhook-signature-next"), "");
    assert_eq!(got.header("webhook-signature").split(' ').count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_route_sends_a_signed_test_event_and_records_it() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let created = service
        .api
        .create_endpoint_with(
            json!({"url": receiver.url("/t"), "events": ["run.failed"], "headers": {"X-Team": "core"}}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let reply = service.api.post(&format!("/v1/webhooks/{id}/test"), json!({})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["delivered"], true);
    assert_eq!(reply.body["http_status"], 200);
    assert!(reply.body["response_time_ms"].is_u64());
    let got = receiver.received().remove(0);
    assert_eq!(got.header("x-webhook-event"), "webhook.test");
    assert_eq!(got.header("x-team"), "core", "custom headers ride along");
    assert_eq!(got.json()["event"], "webhook.test");
    assert_eq!(got.header("x-webhook-signature"), seed_signature(created["secret"].as_str().unwrap(), &got.body));
    let history = service.api.get(&format!("/v1/webhooks/{id}/deliveries?event_type=webhook.test")).await;
    assert_eq!(history.body["data"][0]["status"], "delivered");

    receiver.always(418);
    let failed = service.api.post(&format!("/v1/webhooks/{id}/test"), json!({})).await;
    assert_eq!(failed.body["delivered"], false);
    assert_eq!(failed.body["http_status"], 418);
    assert_eq!(failed.body["error"], "receiver answered HTTP 418");
    let endpoint = service.api.get(&format!("/v1/webhooks/{id}")).await;
    assert_eq!(endpoint.body["failure_count"], 0, "a failed test does not count towards disabling");

    // Seed 003's test sends `workflow.completed`, to an endpoint that need not subscribe to it.
    receiver.always(200);
    let typed = service.api.post(&format!("/v1/webhooks/{id}/test"), json!({"event_type": "workflow.completed"})).await;
    assert_eq!(typed.body["delivered"], true, "{:?}", typed.body);
    let got = receiver.received().pop().unwrap();
    assert_eq!(got.header("x-webhook-event"), "workflow.completed");
    assert_eq!(got.json()["event"], "workflow.completed");
    let history = service.api.get(&format!("/v1/webhooks/{id}/deliveries?event_type=workflow.completed")).await;
    assert_eq!(history.body["data"].as_array().unwrap().len(), 1);
    let sent = receiver.received().len();
    for (body, field) in
        [(json!({"event_type": "no.such.type"}), "event_type"), (json!({"event": "workflow.completed"}), "body")]
    {
        let refused = service.api.post(&format!("/v1/webhooks/{id}/test"), body).await;
        assert_eq!(refused.status, 400, "{:?}", refused.body);
        assert_eq!(refused.body["error"]["details"][0]["field"], field, "{:?}", refused.body);
    }
    assert_eq!(receiver.received().len(), sent, "a refused test sends nothing");
}

/// A 302 to a second receiver is the attempt's answer; the second receiver gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() {
    let service = Service::start().await;
    let (receiver, elsewhere) = (Receiver::start().await, Receiver::start().await);
    receiver.always(302);
    receiver.redirect_to(elsewhere.url("/moved"));
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let reply = service.api.post(&format!("/v1/webhooks/{}/test", created["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(reply.body["delivered"], false);
    assert_eq!(reply.body["http_status"], 302);
    assert_eq!(receiver.received().len(), 1);
    elsewhere.assert_stays_at(0, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_history_filters_and_pages() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.*"]).await;
    let id = created["id"].as_str().unwrap();
    let events: Vec<_> = (0..5)
        .map(|i| json!({"type": if i % 2 == 0 { "run.completed" } else { "run.failed" }, "payload": {"i": i}}))
        .collect();
    service.api.send_events(json!({"events": events})).await;
    service
        .api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=delivered"), WAIT, |b| {
            b["data"].as_array().unwrap().len() == 5
        })
        .await;

    let completed = service.api.get(&format!("/v1/webhooks/{id}/deliveries?event_type=run.completed")).await;
    assert_eq!(completed.body["data"].as_array().unwrap().len(), 3);
    let tenant_wide = service.api.get("/v1/deliveries?event_type=run.failed").await;
    assert_eq!(tenant_wide.body["data"].as_array().unwrap().len(), 2);

    let mut seen = Vec::new();
    let mut path = format!("/v1/webhooks/{id}/deliveries?limit=2");
    loop {
        let page = service.api.get(&path).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        seen.extend(page.body["data"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/webhooks/{id}/deliveries?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(seen, sorted, "newest first, no duplicates across pages");
}

/// 503 with `Retry-After`: the retry waits as asked (within the schedule's bounds), and a
/// busy receiver does not count toward auto-disable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_busy_is_not_broken() {
    let service = Service::start_with(|config| {
        config.settings.policy.schedule = [1, 1, 1, 5].map(Duration::from_secs).to_vec();
        config.settings.policy.disable_after = 2;
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.script(&[503, 429, 503]);
    receiver.answer_with_header("retry-after", "3");
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let id = created["id"].as_str().unwrap();
    service.api.send_events(json!({"type": "run.failed", "payload": {}})).await;

    let got = receiver.wait_for(4, Duration::from_secs(20)).await;
    for pair in got.windows(2) {
        let gap = pair[1].at - pair[0].at;
        // The schedule says 1 s; the receiver asked for 3 s, within the longest delay (5 s).
        assert!(gap >= Duration::from_millis(2700) && gap < Duration::from_millis(4500), "retried after {gap:?}");
    }
    let endpoint = service.api.get(&format!("/v1/webhooks/{id}")).await.body;
    assert_eq!(endpoint["enabled"], true, "three busy answers with disable_after 2 do not disable it");
    service
        .api
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=delivered"), WAIT, |b| b["data"][0]["attempts"] == 4)
        .await;
}

/// 410 Gone: the endpoint is disabled at once, with the reason, and nothing is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_endpoint_at_once() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    receiver.always(410);
    let created = service.api.create_endpoint(&receiver.url("/"), &["run.failed"]).await;
    let id = created["id"].as_str().unwrap();
    service.api.send_events(json!({"type": "run.failed", "payload": {}})).await;
    let disabled = service.api.wait_until(&format!("/v1/webhooks/{id}"), WAIT, |b| b["enabled"] == false).await;
    assert_eq!(disabled["disabled_reason"], "the receiver answered 410 Gone");
    receiver.assert_stays_at(1, Duration::from_millis(2500)).await;
    let history = service.api.get(&format!("/v1/webhooks/{id}/deliveries")).await.body;
    assert_eq!(
        (history["data"][0]["status"].clone(), history["data"][0]["attempts"].clone()),
        (json!("failed"), json!(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_shows_the_headers_its_last_attempt_sent() {
    let service = Service::start().await;
    let receiver = Receiver::start().await;
    let created = service
        .api
        .create_endpoint_with(
            json!({"url": receiver.url("/"), "events": ["run.completed"], "headers": {"X-Team": "payments"}}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    service.api.send_events(json!({"type": "run.completed", "payload": {"n": 1}})).await;
    let got = receiver.wait_for(1, WAIT).await;
    let delivery_id = got[0].header("webhook-id");
    let path = format!("/v1/webhooks/{id}/deliveries/{delivery_id}");
    let detail = service.api.wait_until(&path, WAIT, |body| body["request_headers"].is_object()).await;
    let shown = &detail["request_headers"];
    assert_eq!(shown["exact"], true, "the endpoint has not changed since");
    let headers = shown["headers"].as_array().unwrap();
    assert!(headers.len() >= 9, "{headers:?}");
    for pair in headers {
        let (name, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        // Exactly what the receiver got, signatures included.
        assert_eq!(got[0].header(name), value, "{name}");
    }
    // A key that may not see the secret sees no custom header value.
    let reader = service.api.with_key(&service.api.mint_key("default", &["webhooks:read"]).await);
    let read = reader.get(&path).await;
    let team =
        read.body["request_headers"]["headers"].as_array().unwrap().iter().find(|pair| pair[0] == "X-Team").cloned();
    assert_eq!(team, Some(json!(["X-Team", "[redacted]"])), "{:?}", read.body);
    // Once the endpoint changes, they are what it would send now.
    service.api.patch(&format!("/v1/webhooks/{id}"), json!({"description": "changed"})).await;
    assert_eq!(service.api.get(&path).await.body["request_headers"]["exact"], false);
}
