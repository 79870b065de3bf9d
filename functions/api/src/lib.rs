//! The HTTP API: an axum `Router` over the ports. The Lambda binary and `webhooks serve` run
//! this same router.

mod api_keys;
pub mod aws;
mod dead_letters;
mod deliveries;
mod endpoints;
pub mod error;
mod events;
pub mod request;
mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use webhooks::dead_letters::DeadLetterQueues;
use webhooks::ports::{Clock, HttpSender, Queue, Store};
use webhooks::retry::DeliveryPolicy;
use webhooks::url_guard::UrlPolicy;

/// Largest request body on `POST /v1/events` (a batch of events).
pub const MAX_EVENTS_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Largest request body on every other route.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How long a rotated-out secret keeps signing by default.
pub const DEFAULT_ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest overlap a rotation may ask for.
pub const MAX_ROTATION_OVERLAP: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The backends one deployment runs on, named once so handlers need one type parameter.
pub trait Ports: Send + Sync + 'static {
    type Store: Store;
    type Queue: Queue;
    type Http: HttpSender;
    type Clock: Clock;
}

#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Where endpoint URLs may point (the sender holds every send to the same policy).
    pub url_policy: UrlPolicy,
    /// Endpoints one tenant may have.
    pub max_endpoints: usize,
    /// The test route's timeout comes from here.
    pub policy: DeliveryPolicy,
}

/// Everything a request handler can reach; built once per process.
pub struct App<P: Ports> {
    pub store: P::Store,
    /// Where accepted events go for the dispatcher.
    pub events: P::Queue,
    /// Where manual retries go for the sender.
    pub deliveries: P::Queue,
    /// What the pipeline could not handle, for a look and a redrive (admin only).
    pub dead_letters: DeadLetterQueues<P::Queue>,
    pub http: P::Http,
    pub clock: P::Clock,
    pub settings: ApiSettings,
}

pub fn router<P: Ports>(app: Arc<App<P>>) -> Router {
    let events = Router::new()
        .route("/v1/events", post(events::ingest::<P>))
        .layer(DefaultBodyLimit::max(MAX_EVENTS_BODY_BYTES));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/event-types", get(events::event_types::<P>))
        .route("/v1/webhooks", post(endpoints::create::<P>).get(endpoints::list::<P>))
        .route(
            "/v1/webhooks/{id}",
            get(endpoints::show::<P>).patch(endpoints::update::<P>).delete(endpoints::delete::<P>),
        )
        .route("/v1/webhooks/{id}/secret", get(endpoints::secret::<P>))
        .route("/v1/webhooks/{id}/secret/rotate", post(endpoints::rotate_secret::<P>))
        .route("/v1/webhooks/{id}/test", post(deliveries::test::<P>))
        .route("/v1/webhooks/{id}/deliveries", get(deliveries::list_for_endpoint::<P>))
        .route("/v1/webhooks/{id}/deliveries/{delivery_id}", get(deliveries::show::<P>))
        .route("/v1/webhooks/{id}/deliveries/{delivery_id}/retry", post(deliveries::retry::<P>))
        .route("/v1/deliveries", get(deliveries::list_for_tenant::<P>))
        .route("/v1/api-keys", post(api_keys::create::<P>).get(api_keys::list::<P>))
        .route("/v1/api-keys/{id}", axum::routing::delete(api_keys::delete::<P>))
        .route("/v1/dead-letters/{queue}", get(dead_letters::show::<P>))
        .route("/v1/dead-letters/{queue}/redrive", post(dead_letters::redrive::<P>))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(events)
        .fallback(|| async { error::ApiError::NotFound })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .with_state(app)
}
