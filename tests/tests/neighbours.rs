//! A hostile receiver costs its own deliveries time, not its neighbours'. One tenant has a
//! healthy endpoint and a neighbour that never answers (or answers 200 after 9 s); 500 events
//! go to that tenant (so to both of its endpoints) and 500 to another tenant. The healthy
//! endpoints' p95 latency must stay within a few seconds of the run without the neighbour
//! (before the sender stopped waiting on its slowest delivery: 10.3 s and 54 s against
//! 0.4 s). Prints what it measured. The scheduling is the same code on DynamoDB and SQS; there
//! the emulator's own speed would decide the latency, so the AWS path is held to what the
//! scheduling relies on: deferred deliveries keep their attempts, and at most 16 are open.

use std::time::{Duration, Instant};

use serde_json::json;
use webhooks::retry::DeliveryPolicy;
use webhooks_tests::local_aws::{local_aws, unique_name};
use webhooks_tests::{ADMIN_KEY, Api, Binary, Receiver, Service, data_dir};
/// How much later than without the neighbour the healthy endpoints' p95 may be.
const ALLOWED_SLOWDOWN: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug)]
enum Neighbour {
    Absent,
    Hanging,
    AnswersAfter9s,
}

/// The p95 latency from send to arrival at the same tenant's healthy endpoint and at the
/// other tenant's.
async fn p95s(admin: &Api, neighbour: Neighbour, events: usize) -> (Duration, Duration) {
    let tenant = |name: &str| {
        let name = format!("{name}-{neighbour:?}").to_lowercase();
        async move { admin.with_key(&admin.mint_key(&name, &["webhooks:write", "events:write"]).await) }
    };
    let (tenant_a, tenant_b) = (tenant("a").await, tenant("b").await);
    let (same_tenant, other_tenant, hostile) =
        (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    tenant_a.create_endpoint(&same_tenant.url("/a"), &["run.failed"]).await;
    tenant_b.create_endpoint(&other_tenant.url("/b"), &["run.failed"]).await;
    match neighbour {
        Neighbour::Absent => {}
        Neighbour::Hanging => hostile.delay(Duration::from_secs(3600)),
        Neighbour::AnswersAfter9s => hostile.delay(Duration::from_secs(9)),
    }
    if !matches!(neighbour, Neighbour::Absent) {
        tenant_a.create_endpoint(&hostile.url("/hostile"), &["run.failed"]).await;
    }

    // Sent in requests of up to 100 events, taking turns between the tenants.
    let chunk = events.min(100);
    let mut sent_at = Vec::new();
    for first in (0..events).step_by(chunk) {
        for api in [&tenant_a, &tenant_b] {
            sent_at.push(Instant::now());
            let events: Vec<_> =
                (first..first + chunk).map(|n| json!({"type": "run.failed", "payload": {"n": n}})).collect();
            api.send_events(json!({"events": events})).await;
        }
    }
    let latencies = |receiver: &Receiver, offset: usize| {
        let mut latencies: Vec<Duration> = receiver
            .received()
            .iter()
            .map(|got| {
                let n = got.json()["n"].as_u64().unwrap() as usize;
                got.at.duration_since(sent_at[(n / chunk) * 2 + offset])
            })
            .collect();
        latencies.sort();
        latencies[latencies.len() * 95 / 100]
    };
    same_tenant.wait_for(events, Duration::from_secs(120)).await;
    other_tenant.wait_for(events, Duration::from_secs(120)).await;
    let figures = (latencies(&same_tenant, 0), latencies(&other_tenant, 1));
    println!(
        "{events} events per tenant, neighbour {neighbour:?}: p95 same tenant {:?}, other tenant {:?}; the neighbour got {} requests",
        figures.0,
        figures.1,
        hostile.received().len()
    );
    figures
}

/// The healthy endpoints' p95 with each neighbour, against the run without one. The service
/// runs the default policy: a 10 s timeout, auto-disable after 10 failures.
async fn neighbours_cost_nothing(admin: &Api, events: usize) {
    let (alone_a, alone_b) = p95s(admin, Neighbour::Absent, events).await;
    for neighbour in [Neighbour::Hanging, Neighbour::AnswersAfter9s] {
        let (a, b) = p95s(admin, neighbour, events).await;
        assert!(a <= alone_a + ALLOWED_SLOWDOWN, "{neighbour:?}: same tenant's p95 {a:?} against {alone_a:?}");
        assert!(b <= alone_b + ALLOWED_SLOWDOWN, "{neighbour:?}: other tenant's p95 {b:?} against {alone_b:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_or_slow_receiver_does_not_slow_its_neighbours() {
    let service = Service::start_with(|config| config.policy = DeliveryPolicy::default()).await;
    neighbours_cost_nothing(&service.api, 500).await;
}

/// Deliveries to an endpoint slower than it may be are deferred, not attempted: with no
/// retries at all (a message's second receive would park it), 48 deliveries to a receiver
/// that takes 1.2 s each all arrive, each once, with one attempt, never more than 16 at a
/// time.
async fn deferrals_cost_no_attempts(admin: &Api) {
    const DELIVERIES: usize = 48;
    const ANSWERS_AFTER: Duration = Duration::from_millis(1200);
    let slow = Receiver::start().await;
    slow.delay(ANSWERS_AFTER);
    let endpoint = admin.create_endpoint(&slow.url("/slow"), &["run.failed"]).await;
    let events: Vec<_> = (0..DELIVERIES).map(|n| json!({"type": "run.failed", "payload": {"n": n}})).collect();
    admin.send_events(json!({"events": events})).await;

    let got = slow.wait_for(DELIVERIES, Duration::from_secs(120)).await;
    let mut numbers: Vec<u64> = got.iter().map(|got| got.json()["n"].as_u64().unwrap()).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), DELIVERIES, "each delivery arrived");
    // Requests open when each arrived: those that arrived less than an answer's time before.
    let open = |at: Instant| {
        got.iter().filter(|other| other.at <= at && at - other.at < ANSWERS_AFTER - Duration::from_millis(50)).count()
    };
    let most_open = got.iter().map(|got| open(got.at)).max().unwrap();
    assert!(most_open <= 16, "{most_open} requests were open at once");

    let id = endpoint["id"].as_str().unwrap();
    let delivered = admin
        .wait_until(&format!("/v1/webhooks/{id}/deliveries?status=delivered&limit=100"), Duration::from_secs(30), |b| {
            b["data"].as_array().unwrap().len() == DELIVERIES
        })
        .await;
    assert!(delivered["data"].as_array().unwrap().iter().all(|d| d["attempts"] == 1), "one attempt each");
    slow.assert_stays_at(DELIVERIES, Duration::from_secs(2)).await;
    println!(
        "{DELIVERIES} deliveries to a receiver answering after {ANSWERS_AFTER:?}: at most {most_open} open at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_deliveries_deferred_for_a_slow_endpoint_keep_their_attempts() {
    let service = Service::start_with(|config| config.policy.schedule.clear()).await;
    deferrals_cost_no_attempts(&service.api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_deliveries_deferred_for_a_slow_endpoint_keep_their_attempts() {
    let data = data_dir();
    let prefix = unique_name("deferrals");
    let args = ["--aws", "--provision", "--prefix", &prefix, "--retry-schedule", ""];
    let service = Binary::serve_with_env(data.path(), &args, Some(ADMIN_KEY), &local_aws().env());
    deferrals_cost_no_attempts(&service.api).await;
}
