//! What every port shares: the store's error, a page of a listing, and the clock. The ports
//! themselves stand with their concept (`endpoints::store`, `events::store`,
//! `deliveries::store`, `queues`, `security::api_keys`, `idempotency`,
//! `deliveries::outbound`, `deliveries::rate_limit`); `backend` names them together.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::time::Timestamp;

/// A backend's failure, for logs and never for a response body: what failed and, when there
/// is one, the error that caused it, kept as its [`source`](Error::source) rather than
/// flattened to text, so a log line shows the whole chain ([`ErrorChain`]).
#[derive(Debug, Clone)]
pub struct BackendError {
    what: String,
    cause: Option<Arc<dyn Error + Send + Sync>>,
}

impl BackendError {
    pub fn new(what: impl Into<String>) -> Self {
        Self { what: what.into(), cause: None }
    }

    /// `what` failed because of `cause`.
    pub fn caused_by(what: impl Into<String>, cause: impl Error + Send + Sync + 'static) -> Self {
        Self { what: what.into(), cause: Some(Arc::new(cause)) }
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl Error for BackendError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause.as_deref().map(|cause| cause as &(dyn Error + 'static))
    }
}

/// Two are equal when they say the same, causes included (for tests and retries' logs).
impl PartialEq for BackendError {
    fn eq(&self, other: &Self) -> bool {
        ErrorChain(self).to_string() == ErrorChain(other).to_string()
    }
}

impl Eq for BackendError {}

impl From<String> for BackendError {
    fn from(what: String) -> Self {
        Self::new(what)
    }
}

impl From<&str> for BackendError {
    fn from(what: &str) -> Self {
        Self::new(what)
    }
}

/// An error and every source under it, `outer: inner: root`, for one log line. A source
/// whose text its outer error already ends with (`storage backend: {0}` over the error it
/// wraps) is not repeated.
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = self.0.to_string();
        let mut source = self.0.source();
        while let Some(error) = source {
            let text = error.to_string();
            if !written.ends_with(&text) {
                written.push_str(": ");
                written.push_str(&text);
            }
            source = error.source();
        }
        f.write_str(&written)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// A value that MUST be unique (an endpoint's uid within its tenant) is held by another
    /// item. Unlike `Conflict`, trying again cannot help; the text names the value.
    #[error("{0}")]
    Taken(String),
    /// The backend failed; for logs, never for a response body.
    #[error("storage backend: {0}")]
    Backend(#[source] BackendError),
}

/// A page of results and the opaque cursor of the next page, if any.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The time, for everything that stamps or compares it (a test may hold it still).
pub trait Clock: Send + Sync + 'static {
    /// Now. Successive calls in one process MUST NOT go backwards by more than the system
    /// clock does.
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_names_every_cause_once() {
        let cause = std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out after 5 s");
        let error = StoreError::Backend(BackendError::caused_by("DynamoDB", cause));
        assert_eq!(error.to_string(), "storage backend: DynamoDB", "its own text, for callers that show one");
        assert_eq!(ErrorChain(&error).to_string(), "storage backend: DynamoDB: timed out after 5 s");
        let plain = StoreError::Backend("malformed stored item: id".into());
        assert_eq!(ErrorChain(&plain).to_string(), "storage backend: malformed stored item: id");
    }
}
