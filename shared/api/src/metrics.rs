//! `GET /metrics`: this process's metrics in the Prometheus text format, for an admin key
//! (`Authorization: Bearer`); `serve --metrics-listen` also serves them without a key on an
//! address of its own ([`metrics_only`]), for a scraper on a private network. The counters
//! are the process's; the gauges (queue depths, dead letters, disabled endpoints) are read
//! from the ports at each scrape.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use webhooks::endpoints::store::EndpointStore;
use webhooks::queues::Queue;
use webhooks::security::api_keys::Scope;
use webhooks_pipeline::metrics::{self, Gauges};

use crate::error::ApiError;
use crate::request::{Caller, NoQuery};
use crate::state::{App, Ports};

/// `GET /metrics` on the API's listener: an admin key's.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "service",
    responses((status = 200, description = "This process's metrics, in the Prometheus text format (version 0.0.4)", body = String, content_type = "text/plain")))]
pub async fn scrape<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    _: NoQuery,
) -> Result<Response, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(exposition(&app).await)
}

/// The router `serve --metrics-listen` runs: `/metrics` without a key, nothing else.
pub fn metrics_only<P: Ports>(app: Arc<App<P>>) -> Router {
    Router::new()
        .route("/metrics", get(|State(app): State<Arc<App<P>>>| async move { exposition(&app).await }))
        .with_state(app)
}

async fn exposition<P: Ports>(app: &App<P>) -> Response {
    let gauges = gauges(app).await;
    ([(CONTENT_TYPE, metrics::CONTENT_TYPE)], metrics::render(&app.metrics, &gauges)).into_response()
}

/// The gauges, read now. What cannot be read is left out of this scrape and logged: a
/// missing sample is noticed, a made-up 0 would not be.
async fn gauges<P: Ports>(app: &App<P>) -> Gauges {
    async fn depths<Q: Queue>(queues: [(&'static str, &Q); 2]) -> Vec<(&'static str, u64)> {
        let mut depths = Vec::new();
        for (name, queue) in queues {
            match queue.depth().await {
                Ok(depth) => depths.push((name, depth)),
                Err(error) => tracing::warn!(queue = name, %error, "queue depth not read for /metrics"),
            }
        }
        depths
    }
    let endpoints_disabled = match app.store.count_disabled_endpoints().await {
        Ok(count) => Some(count),
        Err(error) => {
            tracing::warn!(%error, "disabled endpoints not counted for /metrics");
            None
        }
    };
    Gauges {
        queue_depth: depths([("events", &app.events), ("deliveries", &app.deliveries)]).await,
        dead_letters: depths([("events", &app.dead_letters.events), ("deliveries", &app.dead_letters.deliveries)])
            .await,
        endpoints_disabled,
    }
}
