//! The benchmark's receiver: HTTP/1 on 127.0.0.1, answering 200 at once, on a thread and
//! runtime of its own so that its CPU time is measured apart from the service's. It notes
//! when each delivery (event `n`, endpoint `k`) arrived.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use tokio::sync::oneshot;

use super::usage::thread_cpu;

/// One arrival: the event's number, the endpoint's, and when.
pub type Arrival = (u64, u16, Instant);

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Arrival>>>);

pub struct BenchReceiver {
    pub addr: SocketAddr,
    seen: Seen,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Duration>>,
}

async fn receive(State(seen): State<Seen>, Path(k): Path<u16>, body: Bytes) -> &'static str {
    let at = Instant::now();
    // The payload is `{"n": N}`; anything else is not ours and is not counted.
    let n = serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v["n"].as_u64());
    if let Some(n) = n {
        seen.0.lock().expect("not poisoned").push((n, k, at));
    }
    "ok"
}

impl BenchReceiver {
    pub fn start() -> Result<Self, String> {
        let seen = Seen::default();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let state = seen.clone();
        let thread = std::thread::Builder::new()
            .name("bench-receiver".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
                    addr_tx.send(listener.local_addr().expect("bound")).expect("the bench waits");
                    let app = Router::new().route("/r/{k}", axum::routing::post(receive)).with_state(state);
                    let _ = axum::serve(listener, app).with_graceful_shutdown(async move { _ = stopped.await }).await;
                });
                thread_cpu()
            })
            .map_err(|e| e.to_string())?;
        let addr = addr_rx.recv_timeout(Duration::from_secs(5)).map_err(|_| "the receiver did not start".to_owned())?;
        Ok(Self { addr, seen, stop: Some(stop), thread: Some(thread) })
    }

    pub fn url(&self, k: u16) -> String {
        format!("http://{}/r/{k}", self.addr)
    }

    pub fn arrived(&self) -> usize {
        self.seen.0.lock().expect("not poisoned").len()
    }

    /// Stops it; answers every arrival and the CPU time its thread used.
    pub fn finish(mut self) -> (Vec<Arrival>, Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let cpu = self.thread.take().and_then(|thread| thread.join().ok()).unwrap_or_default();
        (std::mem::take(&mut *self.seen.0.lock().expect("not poisoned")), cpu)
    }
}
