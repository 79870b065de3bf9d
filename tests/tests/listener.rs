//! The API listener under `webhooks serve` facing hostile clients: half-sent requests are
//! closed after the header timeout, and idle connections, however many, neither lock out real
//! requests nor use up the process's file descriptors.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use webhooks_cli::api_server::{HEADER_READ_TIMEOUT, Limits};
use webhooks_tests::{ADMIN_KEY, Binary, Service, data_dir, raise_fd_limit};

/// Reads until the server closes the connection; answers how long that took.
async fn closed_after(mut stream: TcpStream, patience: Duration) -> Duration {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout(patience, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the connection was still open after {patience:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    assert_eq!(HEADER_READ_TIMEOUT, Duration::from_secs(30), "the documented default");
    let service = Service::start_with(|config| {
        config.api_limits = Limits { header_read_timeout: Duration::from_secs(1), ..Limits::default() }
    })
    .await;
    let addr = service.running().addr;

    let mut half_sent = TcpStream::connect(addr).await.unwrap();
    half_sent.write_all(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: appl").await.unwrap();
    let silent = TcpStream::connect(addr).await.unwrap();
    let (half, quiet) =
        tokio::join!(closed_after(half_sent, Duration::from_secs(10)), closed_after(silent, Duration::from_secs(10)));
    for took in [half, quiet] {
        assert!(took >= Duration::from_millis(800) && took < Duration::from_secs(4), "closed after {took:?}");
    }
    // A whole request on a fresh connection is answered as ever.
    assert_eq!(service.api.get("/healthz").await.status, 200);
}

/// 1,100 connections that each send half a request header, against a `serve` allowed 1,024
/// file descriptors: `/healthz` and `POST /v1/events` still answer at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_lock_out_requests() {
    const ATTACKERS: usize = 1100;
    assert!(raise_fd_limit(4096) >= ATTACKERS as u64 + 200, "this test needs file descriptors for its own sockets");
    let dir = data_dir();
    let serve = Binary::serve_with_fd_limit(dir.path(), ADMIN_KEY, 1024);
    let addr = serve.api.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..ATTACKERS {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        idle.push(stream);
    }

    let started = Instant::now();
    let health = tokio::time::timeout(Duration::from_secs(5), serve.api.get("/healthz")).await;
    assert_eq!(health.expect("/healthz answers").status, 200);
    let events = serve.api.post("/v1/events", json!({"type": "run.failed", "payload": {"n": 1}}));
    let events = tokio::time::timeout(Duration::from_secs(5), events).await.expect("POST /v1/events answers");
    assert_eq!(events.status, 202, "{:?}", events.body);
    let took = started.elapsed();
    println!("with {ATTACKERS} idle connections open: /healthz and POST /v1/events answered in {took:?}");

    // The oldest idle connections were closed to make room; the newest are still open.
    let mut closed = 0;
    for stream in &mut idle {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(5), stream.read(&mut byte)).await {
            closed += 1;
        }
    }
    println!("{closed} of {ATTACKERS} idle connections were closed to make room");
    assert!(closed >= ATTACKERS - webhooks_cli::api_server::MAX_CONNECTIONS, "{closed} closed");
    drop(idle);
    assert_eq!(serve.api.get("/healthz").await.status, 200);
}
