//! Deliveries deferred because their endpoint is slow keep their attempts, on both backends,
//! and at most so many requests are open to one endpoint (16, or `--endpoint-concurrency`).

use std::time::{Duration, Instant};

use webhooks_tests::{Api, Binary, Receiver, Service, numbered_events};

/// Deliveries to an endpoint slower than it may be are deferred, not attempted: with no
/// retries at all (a message's second receive would park it), 48 deliveries to a receiver
/// that takes 1.2 s each all arrive, each once, with one attempt, never more than
/// `per_endpoint` at a time.
async fn deferrals_cost_no_attempts(admin: &Api, per_endpoint: usize) {
    const DELIVERIES: usize = 48;
    const ANSWERS_AFTER: Duration = Duration::from_millis(1200);
    let slow = Receiver::start().await;
    slow.delay(ANSWERS_AFTER);
    let endpoint = admin.create_endpoint(&slow.url("/slow"), &["run.failed"]).await;
    admin.send_events(numbered_events(0..DELIVERIES)).await;

    let got = slow.wait_for_each(DELIVERIES, Duration::from_secs(120)).await;
    // Requests open when each arrived: those that arrived less than an answer's time before.
    let open = |at: Instant| {
        got.iter().filter(|other| other.at <= at && at - other.at < ANSWERS_AFTER - Duration::from_millis(50)).count()
    };
    let most_open = got.iter().map(|got| open(got.at)).max().unwrap();
    assert!(most_open <= per_endpoint, "{most_open} requests were open at once");

    admin.assert_delivered_once_each(endpoint["id"].as_str().unwrap(), DELIVERIES).await;
    slow.assert_stays_at(DELIVERIES, Duration::from_secs(2)).await;
    println!(
        "{DELIVERIES} deliveries to a receiver answering after {ANSWERS_AFTER:?}: at most {most_open} open at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_deliveries_deferred_for_a_slow_endpoint_keep_their_attempts() {
    let service = Service::start_with(|config| config.settings.policy.schedule.clear()).await;
    deferrals_cost_no_attempts(&service.api, 16).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_deliveries_deferred_for_a_slow_endpoint_keep_their_attempts() {
    let args = ["--retry-schedule", "", "--endpoint-concurrency", "8"];
    let (_data, service) = Binary::serve_on_aws("deferrals", &args);
    deferrals_cost_no_attempts(&service.api, 8).await;
}
