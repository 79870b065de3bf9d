//! A histogram of durations with fixed buckets, as Prometheus reads one: counts per bucket,
//! their sum and count, each an atomic (recording takes no lock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct Histogram {
    /// Each bucket's upper bound in seconds, ascending; one more bucket counts the rest.
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative), the last one past every bound.
    buckets: Box<[AtomicU64]>,
    sum_micros: AtomicU64,
}

/// What a [`Histogram`] held at one moment, cumulative as Prometheus writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramValues {
    /// `(upper bound, observations at or below it)` for each bound, then `+Inf`'s count.
    pub cumulative: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        debug_assert!(bounds.windows(2).all(|pair| pair[0] < pair[1]), "bounds ascend");
        Self { bounds, buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(), sum_micros: AtomicU64::new(0) }
    }

    pub fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        // The first bucket whose bound is at least the value (`le`: less or equal).
        let index = self.bounds.partition_point(|bound| *bound < seconds);
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(u64::try_from(value.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn values(&self) -> HistogramValues {
        let mut running = 0;
        let mut cumulative = Vec::with_capacity(self.buckets.len());
        for (i, bucket) in self.buckets.iter().enumerate() {
            running += bucket.load(Ordering::Relaxed);
            cumulative.push((self.bounds.get(i).copied().unwrap_or(f64::INFINITY), running));
        }
        HistogramValues {
            cumulative,
            count: running,
            sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}
