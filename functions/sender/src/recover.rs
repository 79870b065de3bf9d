//! Recover jobs, which come on the deliveries queue beside deliveries: the sender resends
//! one page of the endpoint's failed deliveries and queues the rest of the job (the rules are
//! the core's `services::recover`).

use webhooks::ports::{Clock, HttpSender, Queue, RateCounter};
use webhooks::services::recover::{RECOVER_PAGE, RecoverJob, recover_page};

use crate::{SendError, SendOutcome, Sender, SenderStore};

impl<S: SenderStore, Q: Queue, H: HttpSender, C: Clock, R: RateCounter> Sender<S, Q, H, C, R> {
    /// One page of `job`; the rest of it goes back on the queue as a new message. If this
    /// fails, the message is received again and the page redone: what it already resent is
    /// pending by then, and skipped.
    pub(crate) async fn recover(&self, job: &RecoverJob) -> Result<SendOutcome, SendError> {
        let step = recover_page(&self.store, &self.deliveries, &self.clock, job, RECOVER_PAGE).await?;
        if let Some(next) = &step.next {
            self.deliveries.send_batch(vec![next.message()]).await?;
        }
        tracing::info!(
            tenant = %job.tenant,
            endpoint_id = %job.endpoint_id,
            resent = step.resent,
            more = step.next.is_some(),
            "recover job: a page of failed deliveries resent"
        );
        Ok(SendOutcome::Recovered)
    }
}
