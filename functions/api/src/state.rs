//! What every request handler can reach: the ports of one deployment ([`Ports`]) and the
//! application state built from them once per process ([`App`]).

use webhooks::dead_letters::DeadLetterQueues;
use webhooks::ports::{Clock, HttpSender, Queue, Store};
use webhooks::retry::DeliveryPolicy;
use webhooks::url_guard::UrlPolicy;

/// The backends one deployment runs on, named once so handlers need one type parameter.
pub trait Ports: Send + Sync + 'static {
    type Store: Store;
    type Queue: Queue;
    type Http: HttpSender;
    type Clock: Clock;
}

#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Where endpoint URLs may point (the sender holds every send to the same policy).
    pub url_policy: UrlPolicy,
    /// Endpoints one tenant may have.
    pub max_endpoints: usize,
    /// The test route's timeout comes from here.
    pub policy: DeliveryPolicy,
}

/// Everything a request handler can reach; built once per process.
pub struct App<P: Ports> {
    pub store: P::Store,
    /// Where accepted events go for the dispatcher.
    pub events: P::Queue,
    /// Where manual retries go for the sender.
    pub deliveries: P::Queue,
    /// What the pipeline could not handle, for a look and a redrive (admin only).
    pub dead_letters: DeadLetterQueues<P::Queue>,
    pub http: P::Http,
    pub clock: P::Clock,
    pub settings: ApiSettings,
}
