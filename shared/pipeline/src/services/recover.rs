//! Recovering an endpoint: every failed delivery of a time window sent again, as a job that
//! runs in the background. The API queues a [`RecoverJob`] on the deliveries queue; the
//! sender takes it, resends one page of failed deliveries (newest first, each as a manual
//! resend does: a fresh retry schedule, the same delivery id), and queues the rest of the job
//! as the next message. A job is therefore durable (a failed page is received again) and
//! bounded per message whatever the window holds.
//!
//! Calling it twice is safe: a resend claims the delivery first (failed to pending, only if
//! it has not changed since it was read), so of two jobs reading the same page at once one
//! resends it, and the other finds it pending and skips it.

use super::ServiceError;
use super::deliveries::retry;
use webhooks::deliveries::DeliveryStatus;
use webhooks::deliveries::store::{DeliveryQuery, DeliveryStore};
use webhooks::ports::Clock;
use webhooks::queues::Queue;
pub use webhooks::queues::messages::RecoverJob;

/// Failed deliveries looked at per message of a job.
pub const RECOVER_PAGE: usize = 100;

/// What one page of a job did, and what is left of it.
#[derive(Debug, PartialEq, Eq)]
pub struct RecoverStep {
    pub resent: usize,
    pub next: Option<RecoverJob>,
}

/// Resends one page (at most `page` failed deliveries, [`RECOVER_PAGE`] in the sender) of the
/// job's failed deliveries on `deliveries`; answers how many, and
/// the rest of the job if the window holds more. A delivery that became pending meanwhile
/// (resent by another job, or by hand) or whose payload is gone is skipped; an endpoint
/// that no longer exists ends the job.
pub async fn recover_page<S: DeliveryStore, Q: Queue, C: Clock>(
    store: &S,
    deliveries: &Q,
    clock: &C,
    job: &RecoverJob,
    page: usize,
) -> Result<RecoverStep, ServiceError> {
    let query = DeliveryQuery {
        endpoint_id: Some(job.endpoint_id.clone()),
        status: Some(DeliveryStatus::Failed),
        event_type: None,
        before: job.before.clone(),
        limit: page,
    };
    let page = store.list_deliveries(&job.tenant, &query).await?;
    let mut resent = 0;
    let mut last = None;
    for delivery in &page.items {
        if delivery.created_at < job.since {
            // Newest first: the rest is older still.
            return Ok(RecoverStep { resent, next: None });
        }
        match retry(store, deliveries, clock, &job.tenant, &job.endpoint_id, &delivery.id).await {
            Ok(_) => resent += 1,
            Err(ServiceError::Conflict(_) | ServiceError::NotFound) => {}
            Err(error) => return Err(error),
        }
        last = Some(delivery.id.clone());
    }
    let next = match (page.next_cursor, last) {
        (Some(_), Some(last)) => Some(RecoverJob { before: Some(last), ..job.clone() }),
        _ => None,
    };
    Ok(RecoverStep { resent, next })
}

/// One message of a job, as the sender runs it: a page resent, and the rest of the job put
/// back on `deliveries` as a new message. If this fails, the message is received again and
/// the page redone: what it already resent is pending by then, and skipped.
pub async fn run_job_page<S: DeliveryStore, Q: Queue, C: Clock>(
    store: &S,
    deliveries: &Q,
    clock: &C,
    job: &RecoverJob,
) -> Result<RecoverStep, ServiceError> {
    let step = recover_page(store, deliveries, clock, job, RECOVER_PAGE).await?;
    if let Some(next) = &step.next {
        deliveries.send_batch(vec![next.message()]).await?;
    }
    tracing::info!(
        tenant = %job.tenant,
        endpoint_id = %job.endpoint_id,
        resent = step.resent,
        more = step.next.is_some(),
        "recover job: a page of failed deliveries resent"
    );
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhooks::ids::{DeliveryId, EndpointId};
    use webhooks::time::Timestamp;

    #[test]
    fn until_bounds_the_window_by_the_first_delivery_id_of_its_millisecond() {
        let endpoint = EndpointId::generate(Timestamp::from_millis(1_000));
        let job =
            RecoverJob::new("acme", &endpoint, Timestamp::from_millis(5_000), Some(Timestamp::from_millis(9_000)));
        let before = job.before.expect("until bounds the window");
        assert!(before.as_str() > DeliveryId::time_range(Timestamp::from_millis(8_999)).1.as_str());
        assert!(before.as_str() <= DeliveryId::time_range(Timestamp::from_millis(9_000)).0.as_str());
        assert_eq!(RecoverJob::new("acme", &endpoint, Timestamp::from_millis(5_000), None).before, None);
    }
}
