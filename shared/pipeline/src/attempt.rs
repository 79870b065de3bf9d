//! One delivery attempt, the one recipe the sender and the test route share
//! ([`deliver_once`]): the signed request a receiver gets (the delivery contract's headers),
//! the attempt record made from its outcome, and the delivery's record after it.

use bytes::Bytes;

use webhooks::deliveries::outbound::{HttpSender, OutboundRequest};
use webhooks::deliveries::receiver_answer::{Answer, classify};
use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::ids::DeliveryId;
use webhooks::security::signing::EndpointKeys;
use webhooks::time::Timestamp;

/// What is being delivered.
pub struct Delivering<'a> {
    pub delivery_id: &'a DeliveryId,
    pub event_type: &'a str,
    /// The payload exactly as the producer sent it.
    pub payload: Bytes,
}

/// The POST for `delivering` to `endpoint` at `now`, signed with `keys`.
pub fn build_request(
    endpoint: &Endpoint,
    keys: &EndpointKeys,
    delivering: &Delivering<'_>,
    now: Timestamp,
    timeout: std::time::Duration,
) -> OutboundRequest {
    let id = delivering.delivery_id.as_str();
    let unix_seconds = now.unix_seconds();
    let mut headers: Vec<(String, String)> =
        endpoint.headers.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
    headers.extend([
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("X-Webhook-Event".to_owned(), delivering.event_type.to_owned()),
        ("X-Webhook-Delivery".to_owned(), id.to_owned()),
        ("X-Webhook-ID".to_owned(), id.to_owned()),
        ("X-Webhook-Timestamp".to_owned(), now.to_rfc3339()),
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), unix_seconds.to_string()),
    ]);
    for (name, value) in keys.headers(id, unix_seconds, &delivering.payload) {
        headers.push((name.to_owned(), value));
    }
    OutboundRequest { url: endpoint.url.clone(), headers, body: delivering.payload.clone(), timeout }
}

/// The headers an attempt at `at` sent, as [`build_request`] makes them with the endpoint as
/// it is now: exactly what was sent if the endpoint has not changed since (signatures are
/// deterministic, and the secrets and custom headers are the same), which `exact` says. The
/// custom headers' values are left out unless `with_custom_values` (they are credentials).
pub fn headers_sent(
    endpoint: &Endpoint,
    delivering: &Delivering<'_>,
    at: Timestamp,
    with_custom_values: bool,
) -> HeadersSent {
    let request = build_request(endpoint, &endpoint.keys(at), delivering, at, std::time::Duration::ZERO);
    let headers = request
        .headers
        .into_iter()
        .map(|(name, value)| {
            let custom = endpoint.headers.contains_key(&name);
            (name, if custom && !with_custom_values { "[redacted]".to_owned() } else { value })
        })
        .collect();
    HeadersSent { at, exact: endpoint.updated_at <= at, headers }
}

/// What [`headers_sent`] answers.
#[derive(Debug, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeadersSent {
    /// The attempt's time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// The endpoint has not changed since: these are the headers sent, signatures included;
    /// else they are what its current secret and headers would send.
    pub exact: bool,
    /// Name and value, in the order sent.
    pub headers: Vec<(String, String)>,
}

/// One attempt made: the delivery's record after it, the attempt's, and what the receiver's
/// answer means (for retries and auto-disable, which are the caller's to decide).
#[derive(Debug)]
pub struct Attempted {
    /// `delivered` (with `delivered_at`) or `failed` (with `last_error`), with the answer's
    /// HTTP status; a caller that retries marks it pending again.
    pub delivery: Delivery,
    pub attempt: Attempt,
    pub answer: Answer,
}

/// Signs `payload` for `delivery` with `keys`, POSTs it to `endpoint` with `timeout`, and
/// answers the records of the attempt. Saves nothing: the caller writes the records, after
/// deciding on a retry.
pub async fn deliver_once<H: HttpSender>(
    http: &H,
    endpoint: &Endpoint,
    keys: &EndpointKeys,
    mut delivery: Delivery,
    payload: Bytes,
    now: Timestamp,
    timeout: std::time::Duration,
) -> Attempted {
    let delivering = Delivering { delivery_id: &delivery.id, event_type: &delivery.event_type, payload };
    let outcome = http.post(build_request(endpoint, keys, &delivering, now, timeout)).await;
    let answer = classify(outcome.status, outcome.retry_after);
    let attempt = Attempt {
        at: now,
        duration_ms: outcome.duration.as_millis() as u64,
        http_status: outcome.status,
        response_body: outcome.body,
        error: outcome.error,
    };
    delivery.http_status = attempt.http_status;
    if answer == Answer::Delivered {
        delivery.status = DeliveryStatus::Delivered;
        delivery.delivered_at = Some(now.plus(outcome.duration));
        delivery.last_error = None;
    } else {
        delivery.status = DeliveryStatus::Failed;
        delivery.last_error = Some(failure_summary(&attempt));
    }
    Attempted { delivery, attempt, answer }
}

/// A short account of a failed attempt, for the delivery's `last_error`.
pub fn failure_summary(attempt: &Attempt) -> String {
    match (&attempt.error, attempt.http_status) {
        (Some(error), _) => error.clone(),
        (None, Some(status)) => format!("receiver answered HTTP {status}"),
        (None, None) => "no response".to_owned(),
    }
}
