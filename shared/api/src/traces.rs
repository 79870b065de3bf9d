//! A "server" span per API request when traces are on, continuing the caller's W3C
//! `traceparent` if it sent a valid one (else a new trace); `POST /v1/events` makes each
//! accepted event's span its child, so the event's whole way is in the caller's trace.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use webhooks::traces::{Span, SpanKind, TraceContext};

use crate::state::{App, Ports};

/// The request's span, for the handlers (in the request's extensions).
#[derive(Clone, Copy, Debug)]
pub struct RequestTrace(pub Option<TraceContext>);

pub async fn trace_request<P: Ports>(State(app): State<Arc<App<P>>>, mut request: Request, next: Next) -> Response {
    if !app.tracer.is_on() {
        return next.run(request).await;
    }
    let parent = request.headers().get("traceparent").and_then(|v| v.to_str().ok()).and_then(TraceContext::parse);
    let method = request.method().as_str().to_owned();
    // The route's template, not the path: one span name per route, never a tenant's id.
    let route = request.extensions().get::<MatchedPath>().map_or("(unmatched)", MatchedPath::as_str).to_owned();
    let mut span = app.tracer.start(format!("{method} {route}"), SpanKind::Server, parent);
    request.extensions_mut().insert(RequestTrace(span.as_ref().map(Span::context)));
    let response = next.run(request).await;
    if let Some(span) = &mut span {
        span.set("http.request.method", method);
        span.set("http.route", route);
        span.set("http.response.status_code", response.status().as_u16());
        if response.status().is_server_error() {
            span.fail(response.status().to_string());
        }
    }
    app.tracer.end(span);
    response
}
