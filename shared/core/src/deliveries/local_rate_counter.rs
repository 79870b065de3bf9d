//! The [`RateCounter`] port in memory: exact for one process, which is what `serve` on SQLite
//! is (it holds a lock on its data directory). Only the current second of each endpoint is
//! kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::deliveries::rate_limit::RateCounter;
use crate::ids::EndpointId;
use crate::ports::StoreError;

/// Endpoints counted before the ones whose second is over are dropped.
const TIDY_AFTER: usize = 10_000;

#[derive(Clone, Default)]
pub struct LocalRateCounter {
    /// By endpoint: the second counted and its count.
    counts: Arc<Mutex<HashMap<EndpointId, (i64, u32)>>>,
}

impl RateCounter for LocalRateCounter {
    async fn count(&self, endpoint: &EndpointId, second: i64) -> Result<u32, StoreError> {
        let mut counts = self.counts.lock().expect("rate counts");
        if counts.len() >= TIDY_AFTER {
            counts.retain(|_, (counted_second, _)| *counted_second >= second);
        }
        let entry = counts.entry(endpoint.clone()).or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        Ok(entry.1)
    }
}
