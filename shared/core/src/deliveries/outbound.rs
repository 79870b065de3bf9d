//! The outbound HTTP port: one signed POST, no redirects, bounded.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;

/// One signed POST to a receiver.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub timeout: Duration,
}

/// What came back: a status and the start of the body, or an error (network, timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOutcome {
    pub status: Option<u16>,
    /// At most [`RESPONSE_BODY_LIMIT`] bytes of the response body, lossily decoded.
    pub body: Option<String>,
    pub error: Option<String>,
    pub duration: Duration,
    /// The receiver's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

/// An attempt's `error` when the receiver did not answer within the timeout (the metrics
/// count these apart from other network failures).
pub const TIMEOUT_ERROR: &str = "timeout";

/// How much of a receiver's response body is kept.
pub const RESPONSE_BODY_LIMIT: usize = 4096;

/// Sends deliveries. MUST NOT follow redirects and MUST give up after `timeout`.
pub trait HttpSender: Send + Sync + 'static {
    fn post(&self, request: OutboundRequest) -> impl Future<Output = HttpOutcome> + Send;
}
