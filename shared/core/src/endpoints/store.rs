//! The endpoint store port.

use std::future::Future;

use crate::endpoints::Endpoint;
use crate::ids::EndpointId;
use crate::ports::{Page, StoreError};

/// Endpoints are listed oldest first; `after` is the last id of the previous page.
#[derive(Debug, Clone, Default)]
pub struct EndpointQuery {
    pub after: Option<EndpointId>,
    pub limit: usize,
}

/// The counter after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    pub failure_count: u32,
    /// True when this failure reached the threshold and disabled the endpoint.
    pub disabled_now: bool,
}

/// Endpoints: their configuration, subscriptions and failure counts.
pub trait EndpointStore: Send + Sync + 'static {
    /// MUST return `Conflict` if an endpoint with this id exists, `Taken` if another endpoint
    /// of the tenant holds its `uid`.
    fn create_endpoint(&self, endpoint: &Endpoint) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// MUST return `NotFound` for an unknown id or another tenant's endpoint.
    fn get_endpoint(&self, tenant: &str, id: &EndpointId) -> impl Future<Output = Result<Endpoint, StoreError>> + Send;

    /// The endpoint of `tenant` that holds `uid` now. MUST return `NotFound` if none does (one
    /// that held it and was deleted, or took another uid, no longer does), or if only another
    /// tenant's does. MUST see a create or update that returned before the call.
    fn find_endpoint_by_uid(
        &self,
        tenant: &str,
        uid: &str,
    ) -> impl Future<Output = Result<Endpoint, StoreError>> + Send;

    /// A page of `tenant`'s endpoints, oldest first (by id), at most `query.limit`, after
    /// `query.after` if given; `next_cursor` is set only when more may follow. MUST NOT
    /// answer another tenant's endpoints.
    fn list_endpoints(
        &self,
        tenant: &str,
        query: &EndpointQuery,
    ) -> impl Future<Output = Result<Page<Endpoint>, StoreError>> + Send;

    /// How many endpoints `tenant` has, counted up to `at_most` (an answer of `at_most` means
    /// at least that many), without reading them whole: what the endpoint limit checks.
    /// MUST NOT count another tenant's endpoints, and MUST see a create or delete that
    /// returned before the call.
    fn count_endpoints(&self, tenant: &str, at_most: usize) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Replaces the endpoint and bumps its version. MUST return `Conflict` unless the stored
    /// version equals `endpoint.version` (someone else wrote first), `NotFound` if it is gone,
    /// `Taken` if another endpoint of the tenant holds its `uid`. A uid it gave up is free for
    /// others at once.
    fn update_endpoint(&self, endpoint: &Endpoint) -> impl Future<Output = Result<Endpoint, StoreError>> + Send;

    /// Deletes the endpoint and its delivery history, freeing its uid. MUST return `NotFound`
    /// if absent.
    fn delete_endpoint(&self, tenant: &str, id: &EndpointId) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The endpoints of `tenant` subscribed to `event_type` exactly or by a wildcard, each
    /// once, disabled ones included (the dispatcher records what they missed). Entity filters
    /// are the caller's to apply.
    fn subscribed_endpoints(
        &self,
        tenant: &str,
        event_type: &str,
    ) -> impl Future<Output = Result<Vec<Endpoint>, StoreError>> + Send;

    /// A number that changes whenever anything `subscribed_endpoints` answers for `tenant` may
    /// have changed: an endpoint created, updated, deleted or disabled. One cheap read, so a
    /// cached answer can be checked instead of recomputed.
    fn subscriptions_version(&self, tenant: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Atomically adds one failure; at `disable_after` it MUST also disable the endpoint with
    /// `reason`, in the same write, and answer `disabled_now` to exactly one caller.
    /// `NotFound` if the endpoint is gone. It bumps the endpoint's version, so a PATCH that
    /// read the endpoint before it gets `Conflict` and starts over (the API retries).
    fn record_failure(
        &self,
        tenant: &str,
        id: &EndpointId,
        disable_after: u32,
        reason: &str,
    ) -> impl Future<Output = Result<FailureCount, StoreError>> + Send;

    /// Sets a failure count above zero back to zero (after a success), bumping the version
    /// as `record_failure` does; changes nothing, and answers Ok, if the count is zero or the
    /// endpoint is gone. Never enables a disabled endpoint.
    fn reset_failures(&self, tenant: &str, id: &EndpointId) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// How many endpoints, of every tenant, are disabled now, whichever way (a PATCH, an
    /// auto-disable); a deleted endpoint no longer counts. Read at each metrics scrape, so it
    /// MUST cost in proportion to the disabled endpoints, not to the store.
    fn count_disabled_endpoints(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
