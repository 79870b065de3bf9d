//! What every port shares: the store's error, a page of a listing, and the clock. The ports
//! themselves stand with their concept (`endpoints::store`, `events::store`,
//! `deliveries::store`, `queues`, `security::api_keys`, `idempotency`,
//! `deliveries::outbound`, `deliveries::rate_limit`); `backend` names them together.

use crate::time::Timestamp;

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
    /// The backend failed; the text is for logs, never for a response body.
    #[error("storage backend: {0}")]
    Backend(String),
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
