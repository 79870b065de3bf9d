//! The seeds' own API surfaces, served verbatim beside `/v1` (only the host changes): each
//! dialect is a thin translation (request unwrapping, field names, response wrapping,
//! status codes) onto the canonical handlers and the core's services, never a second
//! implementation. docs/api.md's dialect table maps each seed route to its canonical one.

pub mod api_v1_webhooks;
pub mod webhook_endpoints;
pub mod webhooks_003;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::MAX_BODY_BYTES;
use crate::error::ApiError;

/// Applies `rewrite` to a JSON answer (any status); other answers pass unchanged.
pub(crate) async fn rewrite_json(response: Response, rewrite: impl FnOnce(u16, &mut Value)) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * MAX_BODY_BYTES).await else {
        return ApiError::Internal("reading an answer to translate it".into()).into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    rewrite(parts.status.as_u16(), &mut value);
    parts.headers.remove(header::CONTENT_LENGTH);
    (parts, axum::Json(value)).into_response()
}

/// Renames field `from` of `item` to `to`, if `item` is an object that has it.
pub(crate) fn rename(item: &mut Value, from: &str, to: &str) {
    if let Some(object) = item.as_object_mut()
        && let Some(value) = object.remove(from)
    {
        object.insert(to.to_owned(), value);
    }
}

/// The items of a page (`{"data": [...]}`), or the answer itself if it is one object.
pub(crate) fn items(value: &mut Value) -> Vec<&mut Value> {
    match value.get("data").is_some_and(Value::is_array) {
        true => value["data"].as_array_mut().map(|items| items.iter_mut().collect()).unwrap_or_default(),
        false => vec![value],
    }
}
