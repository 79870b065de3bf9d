//! What keeps the service safe: signing (`signing`), where requests may go (`url_guard`),
//! API keys (`api_keys`), customer portal sessions (`portal_sessions`), and a receiver's
//! check of a signature (`verify`).

pub mod api_keys;
pub mod portal_sessions;
pub mod signing;
pub mod url_guard;
pub mod verify;
