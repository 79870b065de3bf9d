//! The core of the webhooks service: the model, its rules and the ports, cut by concept —
//! `endpoints`, `events`, `deliveries`, `queues`, `security` (signing, the URL policy, API
//! keys), `idempotency` and `settings` — each folder holding its model, its rules and its
//! port; `ports` is what every port shares and `backend` names them together. The use cases
//! over the ports are `webhooks-pipeline`'s. No SDK, database or HTTP client: the adapters
//! are crates of their own (`webhooks-sqlite`, `webhooks-aws`, `webhooks-http`), and the
//! compiler holds the boundary.

pub mod backend;
pub mod deliveries;
pub mod endpoints;
pub mod events;
pub mod idempotency;
pub mod ids;
pub mod pagination;
pub mod ports;
pub mod queues;
pub mod security;
pub mod settings;
pub mod time;
pub mod traces;
pub mod validation;
