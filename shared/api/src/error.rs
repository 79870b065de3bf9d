//! The one place where errors become HTTP statuses and the JSON error shape:
//! `{"error": {"code", "message", "details"}}`. Internal details never reach a response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use webhooks::ports::{BackendError, ErrorChain, StoreError};
use webhooks::queues::QueueError;
use webhooks::security::api_keys::Scope;
use webhooks::validation::FieldError;
use webhooks_pipeline::services::ServiceError;

/// The body of every error answer: `{"error": {"code", "message", "details"}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, for programs: `validation_error`, `unauthorized`, `forbidden`,
    /// `not_found`, `method_not_allowed`, `conflict`, `limit_reached`,
    /// `idempotency_key_reused`, `payload_too_large` or `internal_error`.
    #[schema(example = "validation_error")]
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// For `validation_error`: each field at fault (`events[1].payload/amount`), and why.
    pub details: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    #[error("missing or invalid API key")]
    Unauthorized,
    #[error("this API key lacks the {0:?} scope")]
    Forbidden(Scope),
    /// A portal session's limits: the route is not for it, or reaches past its endpoints.
    #[error("a portal session may not use this route")]
    PortalLimited,
    #[error("not found")]
    NotFound,
    #[error("this route does not take that method")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A count limit of the deployment (the tenant's endpoints).
    #[error("{0}")]
    LimitReached(String),
    /// The `Idempotency-Key` was used for a different request.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    /// Logged in full (its causes too), answered as a bare 500.
    #[error("internal error: {0}")]
    Internal(#[source] BackendError),
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ServiceError::from(error).into()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(errors) => ApiError::Validation(errors),
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::Conflict(message) => ApiError::Conflict(message),
            ServiceError::LimitReached(message) => ApiError::LimitReached(message),
            ServiceError::PayloadTooLarge(message) => ApiError::PayloadTooLarge(message),
            ServiceError::Backend(error) => ApiError::Internal(error),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(error: QueueError) -> Self {
        ServiceError::from(error).into()
    }
}

fn scope_name(scope: Scope) -> String {
    serde_json::to_value(scope).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

impl ApiError {
    /// The error body alone (for MCP's tool errors).
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.status_and_body().1).unwrap_or_default()
    }

    /// The one mapping of an error to its status and `{"error": {...}}` body.
    fn status_and_body(&self) -> (StatusCode, ErrorBody) {
        let (status, code, message, details) = match self {
            ApiError::Validation(details) => (
                StatusCode::BAD_REQUEST,
                "validation_error",
                details.first().map(|d| format!("{}: {}", d.field, d.message)).unwrap_or_else(|| self.to_string()),
                details.clone(),
            ),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized", self.to_string(), Vec::new()),
            ApiError::Forbidden(scope) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this API key lacks the {} scope", scope_name(*scope)),
                Vec::new(),
            ),
            ApiError::PortalLimited => (StatusCode::FORBIDDEN, "forbidden", self.to_string(), Vec::new()),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", self.to_string(), Vec::new()),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", self.to_string(), Vec::new())
            }
            ApiError::Conflict(message) => (StatusCode::CONFLICT, "conflict", message.clone(), Vec::new()),
            ApiError::LimitReached(message) => (StatusCode::CONFLICT, "limit_reached", message.clone(), Vec::new()),
            ApiError::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", self.to_string(), Vec::new())
            }
            ApiError::PayloadTooLarge(message) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message.clone(), Vec::new())
            }
            ApiError::Internal(_) => {
                tracing::error!(error = %ErrorChain(self), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "something went wrong on our side; the request may be retried".to_owned(),
                    Vec::new(),
                )
            }
        };
        (status, ErrorBody { error: ErrorDetail { code, message, details } })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        (status, Json(body)).into_response()
    }
}
