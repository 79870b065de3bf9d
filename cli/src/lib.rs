//! The `webhooks` command: `serve` runs the whole service in one process; `admin-key` mints
//! an admin API key into a store.

pub mod admin_key;
pub mod api_server;
#[cfg(feature = "aws")]
pub mod aws;
pub mod data_dir;
pub mod event_source;
pub mod flags;
pub mod serve;
