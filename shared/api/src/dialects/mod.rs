//! The seeds' own API surfaces, served verbatim beside `/v1` (only the host changes), one
//! module per route family: `/api/webhook_endpoints` (seed 000), `/api/v1/webhooks` (seed
//! 004) and `/webhooks` (seed 003). Each is a thin translation onto the canonical handlers'
//! typed cores (`create_endpoint`, `show_endpoint`, ...): its request types unwrap or rename
//! fields, and its view types show the answer its way. Never a second implementation.
//! docs/api.md's dialect table maps each seed route to its canonical one.

pub mod api_v1_webhooks;
pub mod api_webhook_endpoints;
pub mod webhooks;

use serde::Serialize;

use crate::views::SecretView;

/// An endpoint in a dialect's view `V`, with its secret beside it where the route shows it.
#[derive(Serialize)]
pub(crate) struct WithSecret<'a, V> {
    #[serde(flatten)]
    pub endpoint: V,
    #[serde(flatten)]
    pub secret: Option<SecretView<'a>>,
}
