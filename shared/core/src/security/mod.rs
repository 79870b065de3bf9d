//! What keeps the service safe: signing (`signing`), where requests may go (`url_guard`),
//! and API keys (`api_keys`).

pub mod api_keys;
pub mod signing;
pub mod url_guard;
