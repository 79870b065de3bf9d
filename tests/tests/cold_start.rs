//! Lambda's cold start, measured: each function's bootstrap started 20 times against the
//! local Runtime API, from the process's start to its first request for an invocation,
//! with every client built (as `main` builds them before it polls); the median and the
//! spread are printed with the bootstrap's size. The figures are for docs/performance.md,
//! from a release build (`WEBHOOKS_BOOTSTRAPS`, see `functions::bootstrap`); here they are
//! printed, never asserted, and the test only holds that each start reaches its first poll.

use std::time::{Duration, Instant};

use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks_tests::functions::{bootstrap, function_env};
use webhooks_tests::local_aws::provisioned;
use webhooks_tests::runtime_api::RuntimeApi;

const STARTS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bootstrap_starts_and_asks_for_work() {
    let aws = provisioned(DeliveryPolicy::default()).await;
    let env = function_env(&aws);
    println!("start to first poll, {STARTS} starts each:");
    for name in ["webhooks-api", "webhooks-dispatcher", "webhooks-sender"] {
        let binary = bootstrap(name);
        let runtime = RuntimeApi::start().await;
        let mut times = Vec::with_capacity(STARTS);
        for start in 0..STARTS {
            let started = Instant::now();
            let function = runtime.start_function(&binary, &env);
            runtime.wait_for_polls(start as u64 + 1).await;
            times.push(started.elapsed());
            let printed = function.stop();
            assert!(!printed.contains("panicked"), "{name}: {printed}");
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let size = std::fs::metadata(&binary).unwrap().len() as f64 / (1024.0 * 1024.0);
        println!(
            "  {name:<20} median {:6.1} ms (min {:.1}, max {:.1}); bootstrap {size:.1} MiB",
            ms(times[STARTS / 2]),
            ms(times[0]),
            ms(times[STARTS - 1])
        );
    }
}
