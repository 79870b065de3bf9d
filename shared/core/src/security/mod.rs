//! What keeps the service safe: signing (`signing`), where requests may go (`url_guard`),
//! API keys (`api_keys`) and customer portal sessions (`portal_sessions`).

pub mod api_keys;
pub mod portal_sessions;
pub mod signing;
pub mod url_guard;
