//! The HTTP API: an axum `Router` over the ports and the pipeline's use cases. The API
//! Lambda and `webhooks serve` run this same router, each over its own adapters; this crate
//! links neither the AWS SDK nor SQLite.

mod api_keys;
mod caller;
pub mod console;
mod dead_letters;
mod deliveries;
mod dialects;
mod endpoints;
pub mod error;
mod event_types;
mod events;
mod idempotency;
mod mcp;
pub mod metrics;
pub mod openapi;
mod operational_webhooks;
mod portal_sessions;
mod recover;
pub mod request;
mod secret_rotation;
pub mod state;
mod stats;
mod test_delivery;
mod traces;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use request::{MAX_BODY_BYTES, MAX_EVENTS_BODY_BYTES, MAX_MCP_BODY_BYTES};
pub use state::{ApiSettings, App, Ports};

/// Every route: the canonical ones, the seeds' dialects, and `/mcp` over the canonical ones.
pub fn router<P: Ports>(app: Arc<App<P>>) -> Router {
    let api =
        canonical(app.clone()).layer(axum::middleware::from_fn_with_state(app.clone(), traces::trace_request::<P>));
    let console = console::routes(&app.settings.console_frame_ancestors);
    api.clone()
        .merge(mcp::routes(app, api))
        .merge(console)
        .fallback(|| async { error::ApiError::NotFound })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
}

fn canonical<P: Ports>(app: Arc<App<P>>) -> Router {
    let events = Router::new()
        .route("/v1/events", post(events::ingest::<P>).get(events::list::<P>))
        .layer(DefaultBodyLimit::max(MAX_EVENTS_BODY_BYTES));
    Router::new()
        .route("/healthz", get(openapi::healthz))
        .route("/metrics", get(metrics::scrape::<P>))
        .route("/openapi.json", get(openapi::document))
        .route("/v1/events/{id}", get(events::show::<P>))
        .route("/v1/event-types", get(event_types::list::<P>).post(event_types::create::<P>))
        .route(
            "/v1/event-types/{name}",
            get(event_types::show::<P>).patch(event_types::update::<P>).delete(event_types::delete::<P>),
        )
        .route("/v1/webhooks", post(endpoints::create::<P>).get(endpoints::list::<P>))
        .route(
            "/v1/webhooks/{id}",
            get(endpoints::show::<P>).patch(endpoints::update::<P>).delete(endpoints::delete::<P>),
        )
        .route("/v1/webhooks/{id}/secret", get(secret_rotation::secret::<P>))
        .route("/v1/webhooks/{id}/secret/rotate", post(secret_rotation::rotate_secret::<P>))
        .route("/v1/webhooks/{id}/test", post(test_delivery::test::<P>))
        .route("/v1/webhooks/{id}/deliveries", get(deliveries::list_for_endpoint::<P>))
        .route("/v1/webhooks/{id}/deliveries/{delivery_id}", get(deliveries::show::<P>))
        .route("/v1/webhooks/{id}/deliveries/{delivery_id}/retry", post(deliveries::retry::<P>))
        .route("/v1/webhooks/{id}/deliveries/{delivery_id}/resend", post(deliveries::resend::<P>))
        .route("/v1/webhooks/{id}/recover", post(recover::recover::<P>))
        .route("/v1/webhooks/{id}/stats", get(stats::stats::<P>))
        .route("/v1/deliveries", get(deliveries::delivery_log::<P>))
        .route("/v1/api-keys", post(api_keys::create::<P>).get(api_keys::list::<P>))
        .route("/v1/api-keys/{id}", axum::routing::delete(api_keys::delete::<P>))
        .route("/v1/me", get(api_keys::me::<P>))
        .route("/v1/portal-sessions", post(portal_sessions::create::<P>).delete(portal_sessions::delete_all::<P>))
        .route("/v1/portal-sessions/{id}", axum::routing::delete(portal_sessions::delete::<P>))
        .route("/v1/dead-letters/{queue}", get(dead_letters::show::<P>))
        .route("/v1/dead-letters/{queue}/redrive", post(dead_letters::redrive::<P>))
        .route("/v1/operational-webhooks", get(operational_webhooks::list::<P>).post(operational_webhooks::create::<P>))
        .route("/v1/operational-webhooks/event-types", get(operational_webhooks::event_types))
        .route(
            "/v1/operational-webhooks/{id}",
            get(operational_webhooks::show::<P>)
                .patch(operational_webhooks::update::<P>)
                .delete(operational_webhooks::delete::<P>),
        )
        .route("/v1/operational-webhooks/{id}/deliveries", get(operational_webhooks::list_deliveries::<P>))
        .merge(dialects::api_webhook_endpoints::routes::<P>())
        .merge(dialects::api_v1_webhooks::routes::<P>())
        .merge(dialects::webhooks::routes::<P>())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(events)
        .layer(axum::middleware::from_fn_with_state(app.clone(), idempotency::idempotent::<P>))
        .with_state(app)
}
