//! The core of the webhooks service: the model, validation, signing, retry policy, the URL
//! guard and the ports (Store, Queue, RateCounter, Clock, HttpSender). The use cases over
//! the ports are `webhooks-pipeline`'s. No SDK, database or HTTP client: the adapters are
//! crates of their own (`webhooks-sqlite`, `webhooks-aws`, `webhooks-http`), and the compiler
//! holds the boundary.

pub mod api_keys;
pub mod catalog;
pub mod dead_letters;
pub mod event_filter;
pub mod event_types;
pub mod filter;
pub mod idempotency;
pub mod ids;
pub mod local_rate_counter;
pub mod messages;
pub mod model;
pub mod pagination;
pub mod payload_schema;
pub mod ports;
pub mod queues;
pub mod rate_limit;
pub mod receiver_answer;
pub mod retry;
pub mod settings;
pub mod signing;
pub mod time;
pub mod url_guard;
pub mod validation;
