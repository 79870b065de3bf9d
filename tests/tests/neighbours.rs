//! A hostile receiver costs its own deliveries time, not its neighbours'. One tenant has a
//! healthy endpoint and a neighbour that never answers (or answers 200 after 9 s); 500 events
//! go to that tenant (so to both of its endpoints) and 500 to another tenant. The healthy
//! endpoints' p95 latency must stay within a few seconds of the run without the neighbour
//! (before the sender stopped waiting on its slowest delivery: 10.3 s and 54 s against
//! 0.4 s). Prints what it measured. The scheduling is the same code on DynamoDB and SQS; there
//! the emulator's own speed would decide the latency, so `deferrals.rs` holds the AWS path to
//! what the scheduling relies on. Alone in its test binary, so that no other test shares the
//! machine while it measures.

use std::time::{Duration, Instant};

use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks_tests::{Api, Receiver, Service, numbered_events, p95_latency};
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
            api.send_events(numbered_events(first..first + chunk)).await;
        }
    }
    let latencies = |receiver: &Receiver, offset: usize| p95_latency(receiver, |n| sent_at[(n / chunk) * 2 + offset]);
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
    let service = Service::start_with(|config| config.settings.policy = DeliveryPolicy::default()).await;
    neighbours_cost_nothing(&service.api, 500).await;
}
