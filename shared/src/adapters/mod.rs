//! Backends implementing the ports. Each module is one backend.

pub mod http;
pub mod sqlite;
