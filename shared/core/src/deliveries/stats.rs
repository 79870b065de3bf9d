//! Delivery statistics: per endpoint and hour, how many attempts delivered, how many failed
//! and will be retried, and how many deliveries failed for good. The sender adds up a batch in
//! memory and writes each endpoint's counts once ([`StatsStore::add_delivery_counts`]), so a
//! busy endpoint costs one write per batch, not one per delivery; the API sums the hours into
//! buckets of an hour or a day ([`into_buckets`]) for `GET /v1/webhooks/{id}/stats` and the
//! console's chart.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::deliveries::DeliveryStatus;
use crate::ids::EndpointId;
use crate::ports::StoreError;
use crate::time::Timestamp;

const HOUR_MILLIS: i64 = 3_600_000;
const DAY_MILLIS: i64 = 24 * HOUR_MILLIS;

/// How long counts are kept: the longest chart (30 days) and the partial day it starts in.
pub const STATS_RETENTION: Duration = Duration::from_secs(31 * 24 * 3600);

/// What one endpoint's attempts came to, in some span of time. Each attempt counts once:
/// `delivered`, `retrying` (failed, another attempt follows) or `failed` (failed, no attempt
/// follows: the last of the schedule, or the endpoint is gone, disabled or answered 410). A
/// delivery not attempted at all because its endpoint is disabled or its event no longer
/// retained counts as `failed` too, as its history shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryCounts {
    pub delivered: u64,
    pub retrying: u64,
    pub failed: u64,
}

impl DeliveryCounts {
    /// The count of one delivery saved as `status`: `Pending` is a failed attempt retried later.
    pub fn of(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Delivered => Self { delivered: 1, ..Self::default() },
            DeliveryStatus::Pending => Self { retrying: 1, ..Self::default() },
            DeliveryStatus::Failed => Self { failed: 1, ..Self::default() },
        }
    }

    pub fn add(&mut self, other: DeliveryCounts) {
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.failed += other.failed;
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// Every outcome counted: attempts, and deliveries failed without one.
    pub fn total(&self) -> u64 {
        self.delivered + self.retrying + self.failed
    }

    /// The share of outcomes that were not a delivery, 0 to 1; `None` when nothing was counted.
    pub fn failure_rate(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| (self.retrying + self.failed) as f64 / total as f64)
    }
}

/// The instant the hour of `at` starts (UTC).
pub fn hour_of(at: Timestamp) -> Timestamp {
    Timestamp::from_millis(at.as_millis().div_euclid(HOUR_MILLIS) * HOUR_MILLIS)
}

/// How the counts are summed for a chart: by hour, or by UTC day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    fn millis(self) -> i64 {
        match self {
            Bucket::Hour => HOUR_MILLIS,
            Bucket::Day => DAY_MILLIS,
        }
    }

    /// The instant after the bucket holding `at`.
    pub fn end_of(self, at: Timestamp) -> Timestamp {
        Timestamp::from_millis(self.start_of(at).as_millis() + self.millis())
    }

    /// The instant the bucket holding `at` starts.
    pub fn start_of(self, at: Timestamp) -> Timestamp {
        Timestamp::from_millis(at.as_millis().div_euclid(self.millis()) * self.millis())
    }

    /// Hours for a span up to two days, days past it.
    pub fn for_span(span: Duration) -> Self {
        if span <= Duration::from_secs(48 * 3600) { Bucket::Hour } else { Bucket::Day }
    }
}

/// `hours` (hourly counts, any order) summed into every `bucket` from the one holding `since`
/// to the one holding `until`, oldest first, with zeros where nothing was counted; hours
/// outside those buckets are left out.
pub fn into_buckets(
    hours: &[(Timestamp, DeliveryCounts)],
    since: Timestamp,
    until: Timestamp,
    bucket: Bucket,
) -> Vec<(Timestamp, DeliveryCounts)> {
    let (first, last) = (bucket.start_of(since), bucket.start_of(until.max(since)));
    let count = ((last.as_millis() - first.as_millis()) / bucket.millis() + 1) as usize;
    let mut buckets: Vec<(Timestamp, DeliveryCounts)> = (0..count)
        .map(|n| (Timestamp::from_millis(first.as_millis() + n as i64 * bucket.millis()), DeliveryCounts::default()))
        .collect();
    for (hour, counts) in hours {
        let index = (bucket.start_of(*hour).as_millis() - first.as_millis()).div_euclid(bucket.millis());
        if let Some((_, sum)) = usize::try_from(index).ok().and_then(|index| buckets.get_mut(index)) {
            sum.add(*counts);
        }
    }
    buckets
}

/// Delivery counts per endpoint and hour.
pub trait StatsStore: Send + Sync + 'static {
    /// Adds `counts` to `tenant`'s endpoint's counts for the hour starting at `hour` (a whole
    /// hour, [`hour_of`]), from zero if there are none. MUST add atomically: two senders
    /// adding to the same hour both count. Counts are kept at least [`STATS_RETENTION`].
    fn add_delivery_counts(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        hour: Timestamp,
        counts: DeliveryCounts,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The endpoint's counts for each hour starting at or after `from` and before `to`,
    /// oldest first; an hour with nothing counted may be absent. MUST NOT answer another
    /// tenant's or another endpoint's counts.
    fn delivery_counts(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = Result<Vec<(Timestamp, DeliveryCounts)>, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn counts(delivered: u64, retrying: u64, failed: u64) -> DeliveryCounts {
        DeliveryCounts { delivered, retrying, failed }
    }

    #[test]
    fn an_hour_starts_on_the_hour_in_utc() {
        assert_eq!(hour_of(at("2026-12-07T13:59:59.999Z")), at("2026-12-07T13:00:00Z"));
        assert_eq!(hour_of(at("2026-12-07T14:00:00Z")), at("2026-12-07T14:00:00Z"));
        assert_eq!(Bucket::Day.start_of(at("2026-12-07T23:30:00+02:00")), at("2026-12-07T00:00:00Z"));
    }

    #[test]
    fn hours_are_summed_into_every_bucket_zeros_included() {
        let hours = [
            (at("2026-12-06T22:00:00Z"), counts(1, 0, 0)),
            (at("2026-12-07T01:00:00Z"), counts(2, 1, 0)),
            (at("2026-12-07T03:00:00Z"), counts(0, 0, 4)),
            // Before the first bucket and after the last: left out.
            (at("2026-12-05T10:00:00Z"), counts(9, 9, 9)),
            (at("2026-12-08T10:00:00Z"), counts(9, 9, 9)),
        ];
        let by_hour = into_buckets(&hours, at("2026-12-07T00:30:00Z"), at("2026-12-07T03:10:00Z"), Bucket::Hour);
        assert_eq!(
            by_hour,
            [
                (at("2026-12-07T00:00:00Z"), counts(0, 0, 0)),
                (at("2026-12-07T01:00:00Z"), counts(2, 1, 0)),
                (at("2026-12-07T02:00:00Z"), counts(0, 0, 0)),
                (at("2026-12-07T03:00:00Z"), counts(0, 0, 4)),
            ]
        );
        let by_day = into_buckets(&hours, at("2026-12-06T12:00:00Z"), at("2026-12-07T12:00:00Z"), Bucket::Day);
        assert_eq!(
            by_day,
            [(at("2026-12-06T00:00:00Z"), counts(1, 0, 0)), (at("2026-12-07T00:00:00Z"), counts(2, 1, 4))]
        );
    }

    #[test]
    fn the_failure_rate_counts_retried_and_failed_attempts() {
        assert_eq!(counts(3, 0, 1).failure_rate(), Some(0.25));
        assert_eq!(counts(0, 2, 2).failure_rate(), Some(1.0));
        assert_eq!(counts(0, 0, 0).failure_rate(), None);
        assert_eq!(DeliveryCounts::of(DeliveryStatus::Pending), counts(0, 1, 0));
        assert_eq!(Bucket::for_span(Duration::from_secs(24 * 3600)), Bucket::Hour);
        assert_eq!(Bucket::for_span(Duration::from_secs(7 * 24 * 3600)), Bucket::Day);
    }
}
