//! The sender's delivery counts ([`webhooks::deliveries::stats`]), added up in memory per
//! endpoint and written once per endpoint when flushed: after each batch on Lambda (an
//! environment may be frozen between batches), every second under `serve`
//! ([`super::Sender::flushing_stats_by_caller`]). A failed write keeps its counts for the next
//! flush; counts still in memory when the process dies are lost (they are statistics, the
//! history is written before).

use std::collections::HashMap;
use std::sync::Mutex;

use webhooks::deliveries::stats::{DeliveryCounts, StatsStore, hour_of};
use webhooks::ids::EndpointId;
use webhooks::ports::ErrorChain;
use webhooks::time::Timestamp;

/// Counts not yet written, by (tenant, endpoint).
#[derive(Default)]
pub(crate) struct Tally {
    counts: Mutex<HashMap<(String, EndpointId), DeliveryCounts>>,
}

impl Tally {
    pub(crate) fn count(&self, tenant: &str, endpoint_id: &EndpointId, counts: DeliveryCounts) {
        let mut all = self.counts.lock().expect("delivery counts");
        all.entry((tenant.to_owned(), endpoint_id.clone())).or_default().add(counts);
    }

    /// Writes every endpoint's counts into the hour of `now`, one write each, at once.
    pub(crate) async fn flush<S: StatsStore>(&self, store: &S, now: Timestamp) {
        let taken = std::mem::take(&mut *self.counts.lock().expect("delivery counts"));
        let hour = hour_of(now);
        let writes = taken.into_iter().filter(|(_, counts)| !counts.is_zero()).map(|((tenant, endpoint_id), counts)| {
            async move {
                match store.add_delivery_counts(&tenant, &endpoint_id, hour, counts).await {
                    Ok(()) => None,
                    Err(error) => {
                        tracing::warn!(%endpoint_id, error = %ErrorChain(&error), "delivery counts not written; kept for the next flush");
                        Some((tenant, endpoint_id, counts))
                    }
                }
            }
        });
        for (tenant, endpoint_id, counts) in futures_util::future::join_all(writes).await.into_iter().flatten() {
            self.count(&tenant, &endpoint_id, counts);
        }
    }
}
