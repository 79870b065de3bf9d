//! The seeds' own API surfaces, served verbatim beside `/v1` (only the host changes): each
//! dialect is a thin translation (request unwrapping, field names, response wrapping,
//! status codes) onto the canonical handlers and the core's services, never a second
//! implementation. The README's dialect table maps each seed route to its canonical one.

pub mod api_v1_webhooks;
pub mod webhook_endpoints;
