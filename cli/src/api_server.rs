//! The API's HTTP/1 server under `webhooks serve`: what `axum::serve` does, plus what a
//! listener open to strangers needs. A request whose header has not fully arrived within
//! [`HEADER_READ_TIMEOUT`] is closed; at most [`MAX_CONNECTIONS`] are open, and when a new
//! one arrives at the limit, the oldest connection that is waiting for a request (not serving
//! one) is closed to make room. So idle or half-sent connections, however many, cannot keep
//! real requests out, nor use up the process's file descriptors.
//! (On Lambda, API Gateway is the listener.)

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// How long a client may take to send a request's header.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections open at once.
pub const MAX_CONNECTIONS: usize = 512;

/// One open connection: how many requests it is serving, and how to close it.
struct Open {
    in_flight: Arc<AtomicUsize>,
    close: Arc<Notify>,
}

/// Counts a request in flight on its connection until dropped.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The router, counting the requests it serves on one connection.
#[derive(Clone)]
struct Counted {
    inner: TowerToHyperService<Router>,
    in_flight: Arc<AtomicUsize>,
}

type Answer = <TowerToHyperService<Router> as hyper::service::Service<hyper::Request<Incoming>>>::Response;
type Failure = <TowerToHyperService<Router> as hyper::service::Service<hyper::Request<Incoming>>>::Error;

impl hyper::service::Service<hyper::Request<Incoming>> for Counted {
    type Response = Answer;
    type Error = Failure;
    type Future = Pin<Box<dyn Future<Output = Result<Answer, Failure>> + Send>>;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let guard = InFlight::enter(&self.in_flight);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answer = answer.await;
            drop(guard);
            answer
        })
    }
}

/// Limits of one server; [`Limits::default`] is what `serve` uses.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { header_read_timeout: HEADER_READ_TIMEOUT, max_connections: MAX_CONNECTIONS }
    }
}

/// Serves `router` on `listener` until `shutdown` turns true, then closes idle connections,
/// lets requests in flight finish, and returns.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, mut shutdown: watch::Receiver<bool>) {
    let open: Arc<Mutex<BTreeMap<u64, Open>>> = Arc::default();
    let mut connections = JoinSet::new();
    let mut next_id = 0u64;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        while connections.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, or a connection reset before it was accepted.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (id, in_flight, close) = {
            let mut open = open.lock().expect("connection table");
            if open.len() >= limits.max_connections {
                let idle = open.iter().find(|(_, c)| c.in_flight.load(Ordering::SeqCst) == 0).map(|(id, _)| *id);
                match idle.and_then(|id| open.remove(&id)) {
                    Some(oldest_idle) => oldest_idle.close.notify_one(),
                    None => {
                        // Every connection is serving a request: this one waits its turn elsewhere.
                        drop(stream);
                        continue;
                    }
                }
            }
            next_id += 1;
            let entry = Open { in_flight: Arc::default(), close: Arc::default() };
            let handles = (next_id, entry.in_flight.clone(), entry.close.clone());
            open.insert(next_id, entry);
            handles
        };
        let service = Counted { inner: TowerToHyperService::new(router.clone()), in_flight: in_flight.clone() };
        let open = open.clone();
        connections.spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = close.notified() => {
                    // Waiting for a request (perhaps half-sent): dropped, which closes it.
                    // Serving one: finishes it first.
                    if in_flight.load(Ordering::SeqCst) > 0 {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
            }
            open.lock().expect("connection table").remove(&id);
        });
    }
    drop(listener);
    for connection in open.lock().expect("connection table").values() {
        connection.close.notify_one();
    }
    while connections.join_next().await.is_some() {}
}
