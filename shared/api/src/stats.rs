//! `GET /v1/webhooks/{id}/stats`: an endpoint's delivery counts by hour or by day, every
//! bucket of the span present (zeros included), with the totals and the failure rate; what
//! the console's chart draws. Counts are kept [`STATS_RETENTION`] (31 days).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use webhooks::deliveries::stats::{Bucket, DeliveryCounts, STATS_RETENTION, StatsStore, into_buckets};
use webhooks::ids::EndpointId;
use webhooks::ports::Clock;
use webhooks::security::api_keys::Scope;
use webhooks::time::Timestamp;

use crate::endpoints::find_endpoint;
use crate::error::ApiError;
use crate::request::{ApiPath, ApiQuery, Caller, EndpointPath};
use crate::state::{App, Ports};

/// The span a chart shows when `since` is absent.
const DEFAULT_SPAN: Duration = Duration::from_secs(24 * 3600);

/// `?since=&until=&bucket=`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// The span's start (RFC 3339), at most 31 days ago; 24 hours before `until` when absent.
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// The span's end (RFC 3339), after `since` and at most 31 days after it; now when absent.
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
    /// `hour` or `day` (UTC days); hours for a span up to 48 hours, days past it, when absent.
    #[param(value_type = Option<Bucket>)]
    bucket: Option<String>,
}

/// One bucket's counts.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BucketCounts {
    /// When the bucket starts.
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    #[serde(flatten)]
    pub counts: DeliveryCounts,
}

/// The counts of the whole span.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Totals {
    #[serde(flatten)]
    pub counts: DeliveryCounts,
    /// (retrying + failed) / (delivered + retrying + failed), 0 to 1; `null` when nothing was
    /// counted.
    pub failure_rate: Option<f64>,
}

/// An endpoint's delivery counts: `delivered` attempts, failed attempts `retrying` later, and
/// deliveries `failed` for good.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EndpointStats {
    #[schema(value_type = String)]
    pub endpoint_id: EndpointId,
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
    pub bucket: Bucket,
    pub totals: Totals,
    /// Every bucket from the one `since` falls in to the one `until` falls in, oldest first.
    pub buckets: Vec<BucketCounts>,
}

fn time(name: &str, text: Option<String>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|text| {
        Timestamp::parse_rfc3339(&text)
            .ok_or_else(|| ApiError::invalid(name, "must be an RFC 3339 time, e.g. 2026-03-21T10:00:00Z"))
    })
    .transpose()
}

/// An endpoint's delivery counts over time.
#[utoipa::path(get, path = "/v1/webhooks/{id}/stats", operation_id = "get_endpoint_stats", tag = "endpoints",
    params(EndpointPath, StatsParams),
    responses((status = 200, description = "The endpoint's counts by bucket", body = EndpointStats)))]
pub async fn stats<P: Ports>(
    State(app): State<Arc<App<P>>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> Result<Response, ApiError> {
    caller.require(Scope::WebhooksRead)?;
    let now = app.clock.now();
    let until = time("until", params.until)?.unwrap_or(now);
    let since = time("since", params.since)?.unwrap_or(until.minus(DEFAULT_SPAN));
    if since >= until {
        return Err(ApiError::invalid("until", "must be after since"));
    }
    if until.since(since) > STATS_RETENTION {
        return Err(ApiError::invalid("until", "must be at most 31 days after since"));
    }
    if since < now.minus(STATS_RETENTION) {
        return Err(ApiError::invalid("since", "must be at most 31 days ago: counts are kept 31 days"));
    }
    let bucket = match params.bucket.as_deref() {
        None => Bucket::for_span(until.since(since)),
        Some("hour") => Bucket::Hour,
        Some("day") => Bucket::Day,
        Some(_) => return Err(ApiError::invalid("bucket", "must be hour or day")),
    };
    let endpoint = find_endpoint(&app, &caller, &id).await?;
    // Whole buckets: the first and the last are read in full.
    let hours =
        app.store.delivery_counts(caller.tenant(), &endpoint.id, bucket.start_of(since), bucket.end_of(until)).await?;
    let buckets = into_buckets(&hours, since, until, bucket);
    let mut totals = DeliveryCounts::default();
    for (_, counts) in &buckets {
        totals.add(*counts);
    }
    let answer = EndpointStats {
        endpoint_id: endpoint.id,
        since,
        until,
        bucket,
        totals: Totals { counts: totals, failure_rate: totals.failure_rate() },
        buckets: buckets.into_iter().map(|(start, counts)| BucketCounts { start, counts }).collect(),
    };
    Ok(Json(answer).into_response())
}
