//! `webhooks listen`: a receiver for trying endpoints out on one's own machine. It prints
//! each delivery as it arrives (time, event type, delivery id, size, and whether its
//! signature verifies when a secret or public key is given, then its body), answers a chosen status, and
//! may pass each request on to a local app (`--forward-to`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use tokio::net::TcpListener;
use webhooks::security::verify::Verifier;
use webhooks::time::Timestamp;

use crate::verify::check;

/// What the receiver does with each request.
pub struct Listening {
    pub verifier: Option<Verifier>,
    pub status: StatusCode,
    pub forward_to: Option<String>,
}

/// The most of a body printed.
const SHOWN_BODY: usize = 4096;

/// Headers not passed on: the connection's own, which the forwarding request sets itself.
const HOP_BY_HOP: [&str; 5] = ["host", "content-length", "connection", "transfer-encoding", "keep-alive"];

/// Binds `addr` and answers requests until the process ends; prints where it listens first.
pub async fn listen(addr: SocketAddr, listening: Listening) -> Result<(), String> {
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("listening on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{bound} (answering {})", listening.status.as_u16());
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| e.to_string())?;
    let app = Router::new().fallback(receive).with_state(Arc::new((listening, client)));
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

async fn receive(
    State(state): State<Arc<(Listening, reqwest::Client)>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let (listening, client) = &*state;
    let lower: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let header = |name: &str| lower.get(name).map(String::as_str).unwrap_or("-");
    let signature = match &listening.verifier {
        None => "signature: unchecked (no --secret or --public-key)".to_owned(),
        Some(verifier) => match check(verifier, &lower, &body) {
            Ok(()) => "signature: valid".to_owned(),
            Err(refusal) => format!("signature: INVALID ({refusal})"),
        },
    };
    let mut line = format!(
        "{} {method} {} {} {} {} bytes, {signature}",
        Timestamp::now().to_rfc3339(),
        uri.path(),
        header("x-webhook-event"),
        header("webhook-id"),
        body.len(),
    );
    if let Some(target) = &listening.forward_to {
        let mut request = client.request(method, target).body(body.clone());
        for (name, value) in headers.iter().filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str())) {
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(answer) => line.push_str(&format!(", forwarded: {}", answer.status().as_u16())),
            Err(error) => line.push_str(&format!(", not forwarded: {error}")),
        }
    }
    println!("{line}");
    // Then the body as sent, on its own line, cut at 4 KiB.
    let shown = &body[..body.len().min(SHOWN_BODY)];
    println!("  {}{}", String::from_utf8_lossy(shown), if body.len() > SHOWN_BODY { " ..." } else { "" });
    listening.status
}
