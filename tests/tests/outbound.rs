//! Outbound safety: where a delivery may connect, judged on the address actually connected,
//! and what the tenant learns when it may not. A resolver the test controls points names
//! at local ports that count every connection.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webhooks::deliveries::outbound::{HttpOutcome, HttpSender, OutboundRequest, RESPONSE_BODY_LIMIT};
use webhooks::security::url_guard::{UrlPolicy, parse_allow_list};
use webhooks_http::ReqwestSender;
use webhooks_tests::{Api, CountingPort, Hosts, Receiver, Service};

const REFUSED: &str = "refused by URL policy";

async fn test_send(api: &Api, endpoint: &Value) -> Value {
    let reply = api.post(&format!("/v1/webhooks/{}/test", endpoint["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

async fn post(sender: &ReqwestSender, url: String, timeout: Duration) -> HttpOutcome {
    sender.post(OutboundRequest { url, headers: Vec::new(), body: "{}".into(), timeout }).await
}

/// A name that passes at create time (it is just a name) but resolves to loopback, as one in
/// /etc/hosts or DNS may: refused at send time, on the pipeline's path and the test route's,
/// recorded as the attempt's error, and never connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_resolving_inside_is_refused_at_send_time_and_never_connected() {
    let inside = CountingPort::bind("127.0.0.1:0").await;
    let hosts = Hosts::new();
    hosts.point("hooks.internal.test", &["127.0.0.1"]);
    let lookup = hosts.clone();
    let service = Service::start_with(move |config| config.lookup = lookup).await;
    let api = &service.api;
    let url = format!("https://hooks.internal.test:{}/hook", inside.addr.port());
    let endpoint = api.create_endpoint(&url, &["run.failed"]).await;
    let id = endpoint["id"].as_str().unwrap();

    let tested = test_send(api, &endpoint).await;
    assert_eq!((tested["delivered"].clone(), tested["error"].clone()), (json!(false), json!(REFUSED)));

    api.send_events(json!({"type": "run.failed", "payload": {"run_id": "r1"}})).await;
    let deliveries = format!("/v1/webhooks/{id}/deliveries?event_type=run.failed");
    let listed =
        api.wait_until(&deliveries, Duration::from_secs(10), |body| body["data"][0]["last_error"].is_string()).await;
    let delivery = &listed["data"][0];
    assert_eq!(delivery["last_error"], REFUSED);
    let detail = api.get(&format!("/v1/webhooks/{id}/deliveries/{}", delivery["id"].as_str().unwrap())).await;
    let attempt = &detail.body["attempt_log"][0];
    assert_eq!((attempt["error"].clone(), attempt["http_status"].clone()), (json!(REFUSED), Value::Null));

    assert!(hosts.lookups() >= 2, "the name was resolved at each send");
    assert_eq!(inside.accepted(), 0, "nothing connected to the internal address");
}

/// The operator allows 127.0.0.2 only. A name that resolves there is connected; once it
/// resolves to 127.0.0.1 (rebinding) it is refused at the next send; when it resolves to
/// both, only the allowed address is connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_rebound_inside_between_sends_is_refused_on_the_address_connected() {
    let allowed = CountingPort::bind("127.0.0.2:0").await;
    let inside = CountingPort::bind(&format!("127.0.0.1:{}", allowed.addr.port())).await;
    let hosts = Hosts::new();
    hosts.point("rebind.test", &["127.0.0.2"]);
    let lookup = hosts.clone();
    let service = Service::start_with(move |config| {
        config.lookup = lookup;
        config.settings.url_policy.allow_private = parse_allow_list("127.0.0.2/32").unwrap();
    })
    .await;
    let api = &service.api;
    let endpoint = api.create_endpoint(&format!("https://rebind.test:{}/", allowed.addr.port()), &["run.failed"]).await;

    // Connected (the counting port speaks plain HTTP, so the handshake fails).
    assert_eq!(test_send(api, &endpoint).await["error"], "TLS error");
    assert_eq!(allowed.accepted(), 1);

    hosts.point("rebind.test", &["127.0.0.1"]);
    assert_eq!(test_send(api, &endpoint).await["error"], REFUSED);

    hosts.point("rebind.test", &["127.0.0.1", "127.0.0.2"]);
    assert_eq!(test_send(api, &endpoint).await["error"], "TLS error");
    assert_eq!((allowed.accepted(), inside.accepted()), (2, 0));
}

/// An IP literal is connected to without a lookup, so the sender judges the URL itself at
/// every send, not only at create time.
#[tokio::test]
async fn internal_literals_are_refused_at_send_time_without_connecting() {
    let inside = CountingPort::bind("127.0.0.2:0").await;
    let sender = ReqwestSender::new(UrlPolicy::insecure(true));
    let port = inside.addr.port();
    for url in [
        format!("http://127.0.0.2:{port}/"),
        format!("https://127.0.0.2:{port}/"),
        format!("https://0x7f000002:{port}/"),
        format!("https://[::ffff:127.0.0.2]:{port}/"),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://2852039166/".to_owned(),
        "http://10.0.0.1/".to_owned(),
    ] {
        let outcome = post(&sender, url.clone(), Duration::from_secs(5)).await;
        assert_eq!((outcome.status, outcome.error.as_deref()), (None, Some(REFUSED)), "{url}");
    }
    assert_eq!(inside.accepted(), 0);
}

/// What a tenant reads of a failure is a category, the same whatever the port: nothing of
/// the operating system's message, the address or the port.
#[tokio::test]
async fn failures_read_as_a_few_categories() {
    let sender = ReqwestSender::new(UrlPolicy::insecure(true));
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let speaking_http = CountingPort::bind("127.0.0.1:0").await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let timeout = Duration::from_millis(500);
    for (url, expected) in [
        (format!("http://127.0.0.1:{closed}/"), "connection failed"),
        (format!("https://localhost:{closed}/"), "connection failed"),
        (format!("https://[::1]:{closed}/"), "connection failed"),
        (format!("https://127.0.0.1:{}/", speaking_http.addr.port()), "TLS error"),
        (format!("http://127.0.0.1:{silent_port}/"), "timeout"),
        (format!("https://127.0.0.1:{silent_port}/"), "timeout"),
    ] {
        let outcome = post(&sender, url.clone(), timeout).await;
        assert_eq!((outcome.status, outcome.error.as_deref()), (None, Some(expected)), "{url}");
    }
    drop(silent);
}

/// The `HttpSender` contract: give up after the attempt's timeout, even while the receiver
/// holds its answer.
#[tokio::test]
async fn a_hanging_receiver_costs_one_timeout() {
    let receiver = Receiver::start().await;
    receiver.delay(Duration::from_secs(10));
    let sender = ReqwestSender::new(UrlPolicy::insecure(true));
    let started = Instant::now();
    let outcome = post(&sender, receiver.url("/slow"), Duration::from_millis(500)).await;
    let took = started.elapsed();
    assert_eq!((outcome.status, outcome.error.as_deref()), (None, Some("timeout")));
    assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(3), "gave up after {took:?}");
    assert_eq!(receiver.received().len(), 1);
}

/// A redirect is an answer, not an instruction: the target of `Location` gets nothing.
#[tokio::test]
async fn redirects_are_answers_not_followed() {
    let (first, second) = (Receiver::start().await, Receiver::start().await);
    first.always(302);
    first.redirect_to(second.url("/elsewhere"));
    let sender = ReqwestSender::new(UrlPolicy::insecure(true));
    let outcome = post(&sender, first.url("/"), Duration::from_secs(5)).await;
    assert_eq!(outcome.status, Some(302));
    assert_eq!(first.received().len(), 1);
    second.assert_stays_at(0, Duration::from_millis(300)).await;
}

/// However much a receiver answers, only the start of it is read and kept.
#[tokio::test]
async fn a_huge_response_body_is_cut_at_the_limit() {
    let receiver = Receiver::start().await;
    receiver.respond_with_body("x".repeat(8 * 1024 * 1024));
    let sender = ReqwestSender::new(UrlPolicy::insecure(true));
    let outcome = post(&sender, receiver.url("/"), Duration::from_secs(5)).await;
    assert_eq!(outcome.status, Some(200));
    assert_eq!(outcome.body.map(|b| b.len()), Some(RESPONSE_BODY_LIMIT));
}

/// The names the insecure switch opens resolve only to loopback's two addresses; any other
/// name pointed at loopback is refused even with the switch.
#[tokio::test]
async fn the_insecure_switch_opens_localhost_and_no_other_name() {
    let receiver = Receiver::start().await;
    let hosts = Hosts::new();
    hosts.point("dev.test", &["127.0.0.1"]);
    let sender = ReqwestSender::with_lookup(UrlPolicy::insecure(true), hosts);
    let port = receiver.addr.port();
    assert_eq!(post(&sender, format!("http://localhost:{port}/"), Duration::from_secs(5)).await.status, Some(200));
    let refused = post(&sender, format!("https://dev.test:{port}/"), Duration::from_secs(5)).await;
    assert_eq!(refused.error.as_deref(), Some(REFUSED));
    assert_eq!(receiver.received().len(), 1);
}
