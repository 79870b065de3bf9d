//! The web console: a page over the public API (`/console`), served from files compiled into
//! the binary, so it works offline and on Lambda alike. It signs in with an API key kept in
//! the tab's sessionStorage and calls the same routes as anyone's script; it has no back
//! door. No inline script or style: the Content-Security-Policy allows only these files and
//! requests to this origin. A customer portal session opens it with its token in the URL's
//! fragment (`/console#portal=whp_...`), which a browser never sends to a server; the pages
//! may be framed by the origins the `--console-frame-ancestors` setting names.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::error::ApiError;

const INDEX: &str = include_str!("../console/index.html");

/// The files under `/console/`, in the order the page loads its scripts.
pub const FILES: [(&str, &str, &str); 9] = [
    ("page.js", JS, include_str!("../console/page.js")),
    ("chart.js", JS, include_str!("../console/chart.js")),
    ("filters.js", JS, include_str!("../console/filters.js")),
    ("endpoints.js", JS, include_str!("../console/endpoints.js")),
    ("activity.js", JS, include_str!("../console/activity.js")),
    ("admin.js", JS, include_str!("../console/admin.js")),
    ("portal.js", JS, include_str!("../console/portal.js")),
    ("console.js", JS, include_str!("../console/console.js")),
    ("console.css", "text/css; charset=utf-8", include_str!("../console/console.css")),
];
const JS: &str = "text/javascript; charset=utf-8";

/// Only this origin's files and API (and logos over https, for a portal's branding); no
/// inline code, no form posts elsewhere; framed only by `frame_ancestors` (the
/// `--console-frame-ancestors` setting, `'none'` by default).
pub fn content_security_policy(frame_ancestors: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
         connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// The console's routes, its pages framed only by `frame_ancestors` (a setting checked when
/// read: [`webhooks::settings::parse_frame_ancestors`]).
pub fn routes<S: Clone + Send + Sync + 'static>(frame_ancestors: &str) -> Router<S> {
    let policy = HeaderValue::from_str(&content_security_policy(frame_ancestors))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    let (page, files) = (policy.clone(), policy);
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(move || async move { asset(INDEX, "text/html; charset=utf-8", page) }))
        .route("/console/", get(|| async { Redirect::to("/console") }))
        .route("/console/{file}", get(move |name| file(name, files)))
}

async fn file(Path(name): Path<String>, policy: HeaderValue) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => asset(body, content_type, policy),
        None => ApiError::NotFound.into_response(),
    }
}

fn asset(body: &'static str, content_type: &'static str, policy: HeaderValue) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // A new binary may bring new files under the same names.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
