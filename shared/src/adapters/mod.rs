//! Backends implementing the ports. Each module is one backend.

pub mod dynamodb;
pub mod http;
pub mod local_rate_counter;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod sqs;
pub mod usage;
