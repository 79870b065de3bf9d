//! `Idempotency-Key` on every POST: a layer over the routes, so no handler knows of it. The
//! first request with a key runs and its answer is kept for a day; the same request again
//! gets that answer (`Idempotent-Replayed: true`) without running; the key on a different
//! request is a 422, and a repeat while the first still runs a 409. Rules and limits:
//! `webhooks::idempotency`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use webhooks::idempotency::IdempotencyStore;
use webhooks::idempotency::{KeptAnswer, KeyUse, MAX_KEPT_ANSWER_BYTES, Taken, fingerprint, is_valid_key};
use webhooks::ports::{Clock, ErrorChain};

use crate::error::ApiError;
use crate::request::Caller;
use crate::request::{MAX_BODY_BYTES, MAX_EVENTS_BODY_BYTES};
use crate::state::{App, Ports};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

pub async fn idempotent<P: Ports>(State(app): State<Arc<App<P>>>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.headers().contains_key(HEADER) {
        return next.run(request).await;
    }
    match run_once(&app, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn run_once<P: Ports>(app: &Arc<App<P>>, request: Request, next: Next) -> Result<Response, Response> {
    let key = request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|key| is_valid_key(key))
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::invalid("Idempotency-Key", "must be 1..=255 visible ASCII characters").into_response()
        })?;
    let (mut parts, body) = request.into_parts();
    let caller = Caller::from_request_parts(&mut parts, app).await.map_err(IntoResponse::into_response)?;
    // The handler's own `Caller` reads it from here instead of looking the key up again.
    parts.extensions.insert(caller.clone());
    let limit = if parts.uri.path() == "/v1/events" { MAX_EVENTS_BODY_BYTES } else { MAX_BODY_BYTES };
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::PayloadTooLarge(format!("the request body is larger than {limit} bytes")).into_response()
    })?;
    let path = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str()).to_owned();
    let fingerprint = fingerprint(parts.method.as_str(), &path, &body);
    let key_use = KeyUse { tenant: caller.tenant(), key: &key, fingerprint: &fingerprint, now: app.clock.now() };
    match app.store.take_key(&key_use).await.map_err(|e| ApiError::from(e).into_response())? {
        Taken::New => {}
        Taken::InProgress => {
            return Err(ApiError::Conflict("a request with this Idempotency-Key is still running; try again".into())
                .into_response());
        }
        Taken::Mismatch => return Err(ApiError::IdempotencyKeyReused.into_response()),
        Taken::Done(answer) => return Ok(replay(answer)),
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_EVENTS_BODY_BYTES).await else {
        let _ = app.store.release_key(caller.tenant(), &key).await;
        return Err(ApiError::Internal("an answer too large to read".into()).into_response());
    };
    let keepable = !parts.status.is_server_error() && bytes.len() <= MAX_KEPT_ANSWER_BYTES;
    let settled = match (keepable, std::str::from_utf8(&bytes)) {
        (true, Ok(text)) => {
            let answer = KeptAnswer { status: parts.status.as_u16(), body: text.to_owned() };
            app.store.keep_answer(&key_use, &answer).await
        }
        // Our side failed (or the answer is too large to keep): a repeat may run again.
        _ => app.store.release_key(caller.tenant(), &key).await,
    };
    if let Err(error) = settled {
        tracing::warn!(error = %ErrorChain(&error), "idempotency key not settled; it frees itself when its lock runs out");
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn replay(answer: KeptAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body.clone()).into_response();
    let headers = response.headers_mut();
    if !answer.body.is_empty() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
