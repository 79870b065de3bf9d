//! A backend: every store together ([`Store`], what an adapter crate provides), and one
//! deployment's four types named at once ([`Ports`]).

use crate::deliveries::outbound::HttpSender;
use crate::deliveries::stats::StatsStore;
use crate::deliveries::store::DeliveryStore;
use crate::endpoints::store::EndpointStore;
use crate::events::store::{EventStore, EventTypeStore};
use crate::idempotency::IdempotencyStore;
use crate::ports::Clock;
use crate::queues::Queue;
use crate::security::api_keys::ApiKeyStore;
use crate::security::portal_sessions::PortalSessionStore;

/// All eight stores: what one backend provides. A handler asks for the ones it uses.
pub trait Store:
    EndpointStore
    + EventStore
    + DeliveryStore
    + StatsStore
    + ApiKeyStore
    + PortalSessionStore
    + EventTypeStore
    + IdempotencyStore
{
}

impl<T> Store for T where
    T: EndpointStore
        + EventStore
        + DeliveryStore
        + StatsStore
        + ApiKeyStore
        + PortalSessionStore
        + EventTypeStore
        + IdempotencyStore
{
}

/// The backends one deployment runs on, named once, so that what runs over all of them (the
/// API's state, a test of the whole pipeline on fakes) needs one type parameter.
pub trait Ports: Send + Sync + 'static {
    type Store: Store;
    type Queue: Queue;
    type Http: HttpSender;
    type Clock: Clock;
}
