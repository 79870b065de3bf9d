//! Auto-disable: an endpoint that keeps failing stops being sent to, with a reason, until its
//! owner enables it again (`PATCH {"enabled": true}`, which resets the count).
//!
//! - A failed attempt (an error, a timeout, or any status but 2xx and 410, including a 429 or
//!   503 without `Retry-After`) counts one; at `disable_after` consecutive ones the endpoint
//!   is disabled.
//! - 410 Gone disables at once.
//! - 429 and 503 with `Retry-After` are a busy receiver, not a broken one: they do not count.
//! - A delivered attempt resets the count.
//!
//! The count lives in the store: [`Store::record_failure`] adds and disables atomically, so
//! concurrent senders disable an endpoint exactly once.

use webhooks::deliveries::receiver_answer::{Answer, GONE_REASON};
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::{EndpointStore, FailureCount};
use webhooks::ports::StoreError;

/// Counts `answer` toward disabling `endpoint`; answers the consecutive failures now, and
/// whether this answer disabled it.
pub async fn count_answer<S: EndpointStore>(
    store: &S,
    endpoint: &Endpoint,
    answer: Answer,
    policy: &DeliveryPolicy,
) -> Result<FailureCount, StoreError> {
    let counted = match answer {
        Answer::Delivered => {
            if endpoint.failure_count > 0 {
                store.reset_failures(&endpoint.tenant, &endpoint.id).await?;
            }
            FailureCount { failure_count: 0, disabled_now: false }
        }
        Answer::Gone => store.record_failure(&endpoint.tenant, &endpoint.id, 1, GONE_REASON).await?,
        Answer::Busy(_) => FailureCount { failure_count: endpoint.failure_count, disabled_now: false },
        Answer::Failed => {
            let reason = format!("{} consecutive failed deliveries", policy.disable_after);
            store.record_failure(&endpoint.tenant, &endpoint.id, policy.disable_after, &reason).await?
        }
    };
    if counted.disabled_now {
        tracing::warn!(endpoint_id = %endpoint.id, "endpoint disabled");
    }
    Ok(counted)
}
