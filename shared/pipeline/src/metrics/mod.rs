//! Metrics: what this process did, counted in memory with atomics (no I/O on the hot path),
//! read out as Prometheus text ([`prometheus`], `GET /metrics`) or, on Lambda, as CloudWatch
//! Embedded Metric Format lines in the logs ([`emf`]). The gauges (queue depths, dead
//! letters, disabled endpoints) are read from the ports when asked, not counted here.
//!
//! Labels stay bounded: no endpoint label ever (per endpoint, the stats API answers), and a
//! tenant label only when the deployment asks for it, for at most that many tenants (the
//! rest count as `_other`).

pub mod emf;
mod histogram;
mod prometheus;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use webhooks::deliveries::outbound::TIMEOUT_ERROR;
use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};

pub use self::histogram::Histogram;
pub use self::prometheus::{CONTENT_TYPE, Gauges, render};

/// The most tenants that may have their own label (`serve --metrics-tenant-labels`).
pub const MAX_TENANT_LABELS: usize = 1000;

/// The tenant label of the tenants past the limit.
pub const OTHER_TENANTS: &str = "_other";

/// What became of a delivery message: `webhooks_deliveries_total{outcome}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Its last attempt failed.
    Failed,
    /// Failed; another attempt follows.
    Retrying,
    /// Not attempted: endpoint deleted or disabled, already delivered, event expired.
    Skipped,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [Outcome::Delivered, Outcome::Failed, Outcome::Retrying, Outcome::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Failed => "failed",
            Outcome::Retrying => "retrying",
            Outcome::Skipped => "skipped",
        }
    }

    /// The outcome of a saved delivery: its status if an attempt was made, else skipped.
    pub fn of(delivery: &Delivery, attempted: bool) -> Self {
        match (attempted, delivery.status) {
            (false, _) => Outcome::Skipped,
            (true, DeliveryStatus::Delivered) => Outcome::Delivered,
            (true, DeliveryStatus::Pending) => Outcome::Retrying,
            (true, DeliveryStatus::Failed) => Outcome::Failed,
        }
    }
}

/// How an attempt ended: `webhooks_delivery_attempts_total{status_class}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusClass {
    Success,
    Redirect,
    ClientError,
    ServerError,
    /// No HTTP answer: refused by the URL policy, DNS, connection, TLS.
    Network,
    Timeout,
}

impl StatusClass {
    pub const ALL: [StatusClass; 6] = [
        StatusClass::Success,
        StatusClass::Redirect,
        StatusClass::ClientError,
        StatusClass::ServerError,
        StatusClass::Network,
        StatusClass::Timeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusClass::Success => "2xx",
            StatusClass::Redirect => "3xx",
            StatusClass::ClientError => "4xx",
            StatusClass::ServerError => "5xx",
            StatusClass::Network => "network",
            StatusClass::Timeout => "timeout",
        }
    }

    pub fn of(attempt: &Attempt) -> Self {
        match attempt.http_status {
            Some(200..=299) => StatusClass::Success,
            Some(300..=399) => StatusClass::Redirect,
            Some(400..=499) => StatusClass::ClientError,
            // 1xx never ends a request; anything else odd counts with the server's errors.
            Some(_) => StatusClass::ServerError,
            None if attempt.error.as_deref() == Some(TIMEOUT_ERROR) => StatusClass::Timeout,
            None => StatusClass::Network,
        }
    }
}

/// The counters one label set (all tenants, or one) has.
#[derive(Default)]
pub(crate) struct Counters {
    events_accepted: AtomicU64,
    deliveries: [AtomicU64; Outcome::ALL.len()],
    attempts: [AtomicU64; StatusClass::ALL.len()],
    endpoints_auto_disabled: AtomicU64,
}

/// What [`Counters`] held at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterValues {
    pub events_accepted: u64,
    pub deliveries: [u64; Outcome::ALL.len()],
    pub attempts: [u64; StatusClass::ALL.len()],
    pub endpoints_auto_disabled: u64,
}

impl Counters {
    fn values(&self) -> CounterValues {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CounterValues {
            events_accepted: load(&self.events_accepted),
            deliveries: self.deliveries.each_ref().map(load),
            attempts: self.attempts.each_ref().map(load),
            endpoints_auto_disabled: load(&self.endpoints_auto_disabled),
        }
    }
}

/// Upper bounds (seconds) of the event-to-delivery latency buckets: from a receiver on the
/// same network to a delivery after the last retry of a long schedule.
pub const DELIVERY_LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0, 86400.0,
];

/// Upper bounds (seconds) of the attempt duration buckets, up to the longest timeout.
pub const ATTEMPT_DURATION_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// This process's metrics; shared by its API, dispatcher and sender.
pub struct Metrics {
    /// Tenants that get their own label; 0: no tenant label.
    tenant_labels: usize,
    totals: Counters,
    tenants: RwLock<HashMap<String, Arc<Counters>>>,
    other: Arc<Counters>,
    pub(crate) delivery_latency: Histogram,
    pub(crate) attempt_duration: Histogram,
    /// Lambda: what the last EMF line reported, and the observations since.
    emf: Option<emf::Pending>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(0)
    }
}

impl Metrics {
    /// Metrics labelled by tenant for the first `tenant_labels` tenants seen (at most
    /// [`MAX_TENANT_LABELS`]); 0: not by tenant.
    pub fn new(tenant_labels: usize) -> Self {
        Self {
            tenant_labels: tenant_labels.min(MAX_TENANT_LABELS),
            totals: Counters::default(),
            tenants: RwLock::default(),
            other: Arc::default(),
            delivery_latency: Histogram::new(DELIVERY_LATENCY_BUCKETS),
            attempt_duration: Histogram::new(ATTEMPT_DURATION_BUCKETS),
            emf: None,
        }
    }

    /// Metrics that also keep what an EMF line reports ([`Metrics::emf_line`]): on Lambda.
    pub fn for_lambda() -> Self {
        Self { emf: Some(emf::Pending::default()), ..Self::new(0) }
    }

    /// Adds to the totals and, with tenant labels, to `tenant`'s counters.
    fn add(&self, tenant: &str, add: impl Fn(&Counters)) {
        add(&self.totals);
        if self.tenant_labels == 0 {
            return;
        }
        if let Some(counters) = self.tenants.read().expect("not poisoned").get(tenant) {
            return add(counters);
        }
        let mut tenants = self.tenants.write().expect("not poisoned");
        if let Some(counters) = tenants.get(tenant) {
            return add(counters);
        }
        if tenants.len() < self.tenant_labels {
            let counters = Arc::<Counters>::default();
            add(&counters);
            tenants.insert(tenant.to_owned(), counters);
        } else {
            add(&self.other);
        }
    }

    /// `count` events of `tenant` accepted (enqueued for the dispatcher).
    pub fn events_accepted(&self, tenant: &str, count: u64) {
        self.add(tenant, |c| {
            c.events_accepted.fetch_add(count, Ordering::Relaxed);
        });
    }

    /// A delivery message handled: its outcome, its attempt (if one was made) and, once
    /// delivered, how long after the event's acceptance.
    pub fn delivery(&self, delivery: &Delivery, attempt: Option<&Attempt>) {
        let outcome = Outcome::of(delivery, attempt.is_some());
        let class = attempt.map(StatusClass::of);
        self.add(&delivery.tenant, |c| {
            c.deliveries[outcome as usize].fetch_add(1, Ordering::Relaxed);
            if let Some(class) = class {
                c.attempts[class as usize].fetch_add(1, Ordering::Relaxed);
            }
        });
        if let Some(attempt) = attempt {
            let duration = Duration::from_millis(attempt.duration_ms);
            self.attempt_duration.observe(duration);
            if let Some(emf) = &self.emf {
                emf.attempt(duration);
            }
        }
        if let Some(delivered_at) = delivery.delivered_at.filter(|_| outcome == Outcome::Delivered) {
            let latency = delivered_at.since(delivery.created_at);
            self.delivery_latency.observe(latency);
            if let Some(emf) = &self.emf {
                emf.delivered(latency);
            }
        }
    }

    /// A delivery message not attempted and not saved (its endpoint deleted, or delivered
    /// already).
    pub fn skipped(&self, tenant: &str) {
        self.add(tenant, |c| {
            c.deliveries[Outcome::Skipped as usize].fetch_add(1, Ordering::Relaxed);
        });
    }

    /// An endpoint of `tenant` disabled by its receiver's answers (failures, 410 Gone).
    pub fn endpoint_auto_disabled(&self, tenant: &str) {
        self.add(tenant, |c| {
            c.endpoints_auto_disabled.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// Every tenant's counters together.
    pub fn totals(&self) -> CounterValues {
        self.totals.values()
    }

    /// With tenant labels: each labelled tenant's counters, then [`OTHER_TENANTS`]'s (always
    /// there, so that every series exists from startup). Without: none.
    pub fn by_tenant(&self) -> Vec<(String, CounterValues)> {
        if self.tenant_labels == 0 {
            return Vec::new();
        }
        let tenants = self.tenants.read().expect("not poisoned");
        let mut values: Vec<_> = tenants.iter().map(|(tenant, c)| (tenant.clone(), c.values())).collect();
        values.sort_by(|a, b| a.0.cmp(&b.0));
        values.push((OTHER_TENANTS.to_owned(), self.other.values()));
        values
    }
}

#[cfg(test)]
mod tests;
