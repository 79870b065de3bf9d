//! The application's use cases, over the ports: what the HTTP API calls (and any other
//! interface to the same resources), so that a handler only reads the request, checks the
//! caller's scope and shapes the answer. Each service asks only for the ports it uses.

pub mod api_keys;
pub mod deliveries;
pub mod endpoints;
pub mod event_types;
pub mod events;
pub mod portal_sessions;
pub mod recover;
pub mod test_delivery;

use webhooks::ports::{BackendError, StoreError};

use webhooks::queues::QueueError;
use webhooks::validation::FieldError;

/// Attempts at a read-modify-write before answering `Conflict`.
pub const UPDATE_ATTEMPTS: usize = 5;

/// Why a use case refused or failed. Each interface maps it to its own answer in one place
/// (the API: `ApiError`); `Backend` carries text for logs, never for a response body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A count limit of the deployment (the tenant's endpoints).
    #[error("{0}")]
    LimitReached(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("backend: {0}")]
    Backend(#[source] BackendError),
}

impl ServiceError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ServiceError::Invalid(vec![FieldError::new(field, message)])
    }

    /// `Ok` if no field failed, else all of them.
    pub fn check(errors: Vec<FieldError>) -> Result<(), ServiceError> {
        if errors.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(errors)) }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(message) | StoreError::Taken(message) => ServiceError::Conflict(message),
            StoreError::Backend(error) => ServiceError::Backend(error),
        }
    }
}

impl From<QueueError> for ServiceError {
    fn from(error: QueueError) -> Self {
        match error {
            QueueError::Backend(error) => ServiceError::Backend(error),
        }
    }
}
