//! Request extractors: the caller (`caller.rs`), JSON bodies, query and path parameters (with
//! the path parameters' descriptions for the OpenAPI document), their failures in the API's
//! error shape.

pub use crate::caller::Caller;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Largest request body on `POST /v1/events` (a batch of events).
pub const MAX_EVENTS_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Largest request body on every other route.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Largest request body on `/mcp` (one tool call; `send_event` carries one payload).
pub const MAX_MCP_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body of any content type, whose errors are `validation_error` (400) or
/// `payload_too_large` (413).
pub struct ApiJson<T>(pub T);

/// The raw body, with the same 413 mapping as [`ApiJson`].
pub async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!("the request body is too large: {}", rejection.body_text()))
        } else {
            ApiError::invalid("body", rejection.body_text())
        }
    })
}

/// A JSON body that may be left out: empty (or only whitespace), or `null`, is `T::default()`.
pub async fn optional_json<S: Send + Sync, T: DeserializeOwned + Default>(
    request: Request,
    state: &S,
) -> Result<T, ApiError> {
    let body = body_bytes(request, state).await?;
    let text = body.trim_ascii();
    if text.is_empty() || text == b"null" { Ok(T::default()) } else { parse_json(text) }
}

/// For `#[serde(default, deserialize_with = "present")]`: tells `"field": null` (Some(None))
/// from an absent field (None, via `default`).
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// An integer field as JSON Schema reads one (`1033` or `1033.0`), within `T`'s range: the
/// OpenAPI document calls both valid, so both are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Whole<T>(pub T);

impl<'de, T: TryFrom<i64>> serde::Deserialize<'de> for Whole<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        webhooks::validation::whole_number(&number)
            .and_then(|n| T::try_from(n).ok())
            .map(Whole)
            .ok_or_else(|| serde::de::Error::custom(format!("{number} is not an integer in range")))
    }
}

/// Parses JSON, naming the offending field in the error when serde can.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid("body", e.to_string()))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(request, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A query string, whose errors are `validation_error`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|query| ApiQuery(query.0))
            .map_err(|rejection| ApiError::invalid("query", rejection.body_text()))
    }
}

/// The query of a route that takes none: any parameter is a `validation_error` naming it, a
/// mistake rather than noise.
pub type NoQuery = ApiQuery<NoParameters>;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NoParameters {}

/// Path parameters, whose errors (an id with invalid percent-encoding) are `validation_error`.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|path| ApiPath(path.0))
            .map_err(|rejection| ApiError::invalid("path", rejection.body_text()))
    }
}

/// A `limit` parameter: `default` when absent, else an integer from 1 to `max`.
pub fn parse_limit(text: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    parse_count("limit", text, default, 1..=max)
}

/// A count parameter named `field`: `default` when absent, else an integer in `range`.
pub fn parse_count(
    field: &str,
    text: Option<&str>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ApiError> {
    match text {
        None => Ok(default),
        Some(text) => text.parse::<usize>().ok().filter(|count| range.contains(count)).ok_or_else(|| {
            ApiError::invalid(field, format!("must be an integer from {} to {}", range.start(), range.end()))
        }),
    }
}

/// `?limit=&cursor=` of every list.
#[derive(serde::Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Items per page: 1 to 100, 20 when absent.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<usize, ApiError> {
        use webhooks::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
        parse_limit(self.limit.as_deref(), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    }

    /// The id inside the cursor, parsed as the kind of id this list pages by.
    pub fn cursor_id<T>(&self, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ApiError> {
        let Some(cursor) = &self.cursor else { return Ok(None) };
        webhooks::pagination::decode_cursor(cursor)
            .and_then(|id| parse(&id))
            .map(Some)
            .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor from this list"))
    }
}

/// `{id}` of the routes under `/v1/webhooks/{id}`, for the document (handlers read it as a
/// string: `endpoints::find_endpoint`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct EndpointPath {
    /// The endpoint's id (`ep_...`) or its uid
    id: String,
}

/// `{id}` and `{delivery_id}` of the routes of one delivery.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct DeliveryPath {
    /// The endpoint's id (`ep_...`) or its uid
    id: String,
    /// The delivery's id (`del_...`)
    delivery_id: String,
}
