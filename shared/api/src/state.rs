//! What every request handler can reach: the application state built once per process
//! from the ports of one deployment ([`Ports`], defined in the core).

use std::sync::Arc;

pub use webhooks::backend::Ports;
use webhooks::deliveries::history::History;
use webhooks::deliveries::retry::DeliveryPolicy;
use webhooks::queues::dead_letters::DeadLetterQueues;
use webhooks::security::url_guard::UrlPolicy;
use webhooks::settings::Settings;
use webhooks::traces::Tracer;
use webhooks_pipeline::metrics::Metrics;
use webhooks_pipeline::services::endpoints::Endpoints;
use webhooks_pipeline::services::event_types::EventTypes;
use webhooks_pipeline::services::events::Intake;

/// What the API reads of the deployment's [`Settings`].
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Where endpoint URLs may point (the sender holds every send to the same policy).
    pub url_policy: UrlPolicy,
    /// Endpoints one tenant may have.
    pub max_endpoints: usize,
    /// The test route's timeout comes from here.
    pub policy: DeliveryPolicy,
    /// Whether events of a type the tenant does not have are accepted.
    pub accept_unknown_event_types: bool,
    /// Who may embed the console (CSP `frame-ancestors`).
    pub console_frame_ancestors: String,
    /// What the delivery history keeps, for clients to say (`GET /v1/me`).
    pub history: History,
}

impl From<&Settings> for ApiSettings {
    fn from(settings: &Settings) -> Self {
        ApiSettings {
            url_policy: settings.url_policy.clone(),
            max_endpoints: settings.max_endpoints,
            policy: settings.policy.clone(),
            accept_unknown_event_types: settings.accept_unknown_event_types,
            console_frame_ancestors: settings.console_frame_ancestors.clone(),
            history: settings.history,
        }
    }
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
    /// The process's counters, shared with its dispatcher and sender (`GET /metrics`).
    pub metrics: Arc<Metrics>,
    /// Spans of requests and accepted events, when traces are on.
    pub tracer: Tracer,
}

impl<P: Ports> App<P> {
    /// Where accepted events go, with the tenants' types and this deployment's rule for
    /// unknown ones.
    pub fn intake(&self) -> Intake<'_, P::Queue, P::Clock, P::Store> {
        Intake {
            events: &self.events,
            clock: &self.clock,
            types: &self.store,
            accept_unknown: self.settings.accept_unknown_event_types,
            metrics: &self.metrics,
            tracer: &self.tracer,
        }
    }

    /// The event type use cases.
    pub fn event_types(&self) -> EventTypes<'_, P::Store, P::Clock> {
        EventTypes { store: &self.store, clock: &self.clock }
    }

    /// The endpoint use cases, with this deployment's URL policy and endpoint limit.
    pub fn endpoints(&self) -> Endpoints<'_, P::Store, P::Clock, P::Queue> {
        Endpoints {
            store: &self.store,
            clock: &self.clock,
            events: &self.events,
            url_policy: &self.settings.url_policy,
            max_endpoints: self.settings.max_endpoints,
        }
    }
}
