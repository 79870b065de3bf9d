//! The `webhooks` command: `serve` runs the whole service in one process; `admin-key` mints
//! an admin API key into a store; `listen` and `verify` are a receiver's tools; the client
//! commands (`endpoints`, `events`, ...) call a running API; `bench` measures the embedded
//! service end to end.

pub mod admin_key;
pub mod api_server;
#[cfg(feature = "aws")]
pub mod aws;
pub mod bench;
pub mod client;
pub mod commands;
pub mod data_dir;
pub mod event_source;
pub mod flags;
pub mod listen;
pub mod serve;
pub mod verify;
