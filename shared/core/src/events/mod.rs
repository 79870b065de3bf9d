//! Events: the model ([`Event`], [`EntityId`]), what producers send (`intake`), event
//! types and their patterns (`types`, `patterns`, `catalog`, `payload_schema`), and the
//! event and event-type stores (`store`).

pub mod default_catalog;
pub mod intake;
pub mod operational;
pub mod patterns;
pub mod payload_schema;
pub mod store;
pub mod types;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ids::Tenant;
use crate::time::Timestamp;
use crate::validation::whole_i64;

/// An entity id as producers send it: an integer or a string. Filters match on the canonical
/// text, so `42` and `"42"` are the same entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum EntityId {
    Number(#[serde(deserialize_with = "whole_i64")] i64),
    Text(String),
}

impl EntityId {
    pub fn canonical(&self) -> String {
        match self {
            EntityId::Number(n) => n.to_string(),
            EntityId::Text(s) => s.clone(),
        }
    }
}

/// An event as accepted for fan-out. `payload` is kept byte for byte as the producer sent it.
#[derive(Debug)]
pub struct Event {
    pub tenant: Tenant,
    pub id: String,
    pub event_type: String,
    pub entity_id: Option<EntityId>,
    pub payload: Box<RawValue>,
    pub created_at: Timestamp,
}
