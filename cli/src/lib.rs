//! The `webhooks` command: `serve` runs the whole service in one process.

pub mod serve;
