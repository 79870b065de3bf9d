//! The core of the webhooks service: the model, validation, signing, retry policy and the
//! ports (Store, Queue, Clock, HttpSender) with their adapters. No Lambda types live here.

pub mod adapters;
pub mod api_keys;
pub mod attempt;
pub mod aws;
pub mod catalog;
pub mod dead_letters;
pub mod deployment;
pub mod event_source;
pub mod filter;
pub mod ids;
pub mod messages;
pub mod model;
pub mod pagination;
pub mod ports;
pub mod rate_limit;
pub mod receiver_answer;
pub mod retry;
pub mod signing;
pub mod time;
pub mod url_guard;
pub mod validation;
