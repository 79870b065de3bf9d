//! The delivery store port.

use std::future::Future;

use crate::deliveries::{Attempt, Delivery, DeliveryDetail, DeliveryStatus};
use crate::ids::{DeliveryId, EndpointId};
use crate::ports::{Page, StoreError};
use crate::time::Timestamp;

/// Deliveries are listed newest first; `before` is the last id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    /// One endpoint's history, or `None` for the tenant's delivery log (every endpoint's).
    pub endpoint_id: Option<EndpointId>,
    pub status: Option<DeliveryStatus>,
    pub event_type: Option<String>,
    pub before: Option<DeliveryId>,
    pub limit: usize,
}

/// Deliveries and their attempts: the history.
pub trait DeliveryStore: Send + Sync + 'static {
    /// Writes the delivery's current state and, if given, appends an attempt to its history,
    /// in one write. Creates the delivery on first use.
    fn save_delivery(
        &self,
        delivery: &Delivery,
        attempt: Option<&Attempt>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks a failed or delivered delivery pending again (a manual resend, already
    /// enqueued), due at `at`. MUST change nothing and answer false unless the delivery exists
    /// with status `failed` or `delivered` and exactly `attempts` attempts: a send since it
    /// was read decides its state.
    fn requeue_delivery(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
        attempts: u32,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// MUST return `NotFound` for an unknown id, or another tenant's or endpoint's delivery.
    fn get_delivery(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
    ) -> impl Future<Output = Result<DeliveryDetail, StoreError>> + Send;

    /// The status of a delivery, `None` if it was never saved. Cheaper than `get_delivery`.
    fn delivery_status(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
    ) -> impl Future<Output = Result<Option<DeliveryStatus>, StoreError>> + Send;

    /// Every delivery of event `event_id` of `tenant` (one per endpoint it went to), oldest
    /// endpoint first; `received_at` is when the event was received, which its deliveries'
    /// ids carry ([`DeliveryId::time_range`]), so this reads only that slice of the log.
    fn event_deliveries(
        &self,
        tenant: &str,
        event_id: &str,
        received_at: Timestamp,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// A page of `tenant`'s deliveries, newest first, filtered by `query` (endpoint, status,
    /// event type), at most `query.limit`, before `query.before` if given; `next_cursor` is
    /// set only when more may follow. MUST NOT answer another tenant's deliveries.
    fn list_deliveries(
        &self,
        tenant: &str,
        query: &DeliveryQuery,
    ) -> impl Future<Output = Result<Page<Delivery>, StoreError>> + Send;
}
