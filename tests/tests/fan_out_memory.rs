//! A fan-out costs small messages, not copies of the payload: one POST of 10 events of
//! 200 KB to 300 endpoints, against the real binary, stays within +256 MiB of RSS and
//! +512 MiB of data (before deliveries stopped carrying the payload: +593 MiB and
//! +1,154 MiB). Prints what it measured.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use serde_json::json;
use webhooks_tests::{ADMIN_KEY, Binary, data_dir};

const MIB: u64 = 1024 * 1024;

/// A kibibyte figure of /proc/PID/status (`VmRSS`, `VmHWM`), in bytes.
fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|line| line.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

fn data_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().metadata().unwrap().len()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_fan_out_stays_within_its_memory_and_data_bounds() {
    const ENDPOINTS: usize = 300;
    const EVENTS: usize = 10;
    let arrived = Arc::new(AtomicUsize::new(0));
    let counter = arrived.clone();
    let app = Router::new().fallback(move |body: Bytes| {
        let counter = counter.clone();
        async move {
            assert!(body.len() > 200_000);
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = data_dir();
    let serve = Binary::serve(dir.path(), &["--max-endpoints", "300"], Some(ADMIN_KEY));
    for _ in 0..ENDPOINTS {
        serve.api.create_endpoint(&url, &["run.failed"]).await;
    }
    let pid = serve.child.id();
    let (rss_before, data_before) = (memory(pid, "VmRSS"), data_size(dir.path()));

    let payload = json!({"blob": "x".repeat(200 * 1024)});
    let events: Vec<_> = (0..EVENTS).map(|_| json!({"type": "run.failed", "payload": payload})).collect();
    let started = Instant::now();
    serve.api.send_events(json!({"events": events})).await;
    while arrived.load(Ordering::SeqCst) < ENDPOINTS * EVENTS {
        assert!(started.elapsed() < Duration::from_secs(120), "only {} arrived", arrived.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    let rss_growth = memory(pid, "VmHWM").saturating_sub(rss_before);
    let data_growth = data_size(dir.path()).saturating_sub(data_before);
    println!(
        "{EVENTS} events of 200 KiB to {ENDPOINTS} endpoints: {} deliveries in {took:?}; \
         peak RSS +{} MiB, data +{} MiB",
        ENDPOINTS * EVENTS,
        rss_growth / MIB,
        data_growth / MIB
    );
    assert!(rss_growth < 256 * MIB, "RSS grew by {} MiB", rss_growth / MIB);
    assert!(data_growth < 512 * MIB, "data grew by {} MiB", data_growth / MIB);
}
