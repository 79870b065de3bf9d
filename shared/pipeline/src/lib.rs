//! The application, over the core's ports: the use cases the HTTP API calls (`services`), the
//! dispatcher that fans an event out into deliveries, and the sender that signs, POSTs,
//! records and retries them. No SDK, database, Lambda runtime or HTTP client: the Lambda
//! functions and `webhooks serve` bind this crate to their adapters, and the compiler holds
//! the boundary (its manifest names none).

pub mod attempt;
pub mod dispatcher;
pub mod metrics;
pub mod operational;
pub mod sender;
pub mod services;

pub use dispatcher::Dispatcher;
pub use metrics::Metrics;
pub use sender::Sender;
