//! A tenant's own event types, beside the default catalog (`default_catalog.rs`): what one is, the
//! rules for its name and fields, and the catalog a tenant sees (the defaults and its own).

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::events::default_catalog::{event_types as default_types, is_default_type};
use crate::events::patterns::pattern_matches;
use crate::events::payload_schema::PayloadSchema;
use crate::ids::Tenant;
use crate::time::Timestamp;
use crate::validation::FieldError;

/// Own event types one tenant may have: with the 59 default ones, enough to fill an
/// endpoint's 500 subscriptions one by one.
pub const MAX_TENANT_EVENT_TYPES: usize = 500;
/// An event type's name: 1 to 10 parts of `A-Z a-z 0-9 _ -` joined by dots.
pub const MAX_EVENT_TYPE_NAME_LEN: usize = 128;
pub const MAX_EVENT_TYPE_PARTS: usize = 10;
pub const MAX_EVENT_TYPE_DESCRIPTION_LEN: usize = 1000;
pub const MAX_FAMILY_LEN: usize = 64;
/// A payload schema, as compact JSON.
pub const MAX_SCHEMA_BYTES: usize = 32 * 1024;

/// A tenant's own event type.
#[derive(Clone, Debug, PartialEq)]
pub struct EventTypeDef {
    pub tenant: Tenant,
    pub name: String,
    pub description: String,
    /// How it is grouped for people (`Payments`); the name's first part when absent.
    pub family: Option<String>,
    /// A JSON Schema that every payload of this type must satisfy.
    pub schema: Option<Value>,
    /// Still accepted and delivered, still subscribable; hidden from the listing unless asked.
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped by every write; updates are conditional on it.
    pub version: u64,
}

/// A type as the API lists it: a default one (`source: "catalog"`) or the tenant's own.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventTypeView<'a> {
    #[serde(rename = "type")]
    pub name: &'a str,
    pub description: &'a str,
    pub family: &'a str,
    pub schema: Option<&'a Value>,
    /// A payload of the type (the default catalog's types have one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<&'a Value>,
    pub archived: bool,
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
}

fn first_part(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

impl EventTypeDef {
    pub fn view(&self) -> EventTypeView<'_> {
        EventTypeView {
            name: &self.name,
            description: &self.description,
            family: self.family.as_deref().unwrap_or_else(|| first_part(&self.name)),
            schema: self.schema.as_ref(),
            example: None,
            archived: self.archived,
            source: "tenant",
            created_at: Some(self.created_at),
            updated_at: Some(self.updated_at),
        }
    }
}

/// Every default type, as the API lists them.
pub fn default_views() -> impl Iterator<Item = EventTypeView<'static>> {
    default_types().iter().map(|t| EventTypeView {
        name: &t.name,
        description: &t.description,
        family: first_part(&t.name),
        schema: None,
        example: t.example.as_ref(),
        archived: false,
        source: "catalog",
        created_at: None,
        updated_at: None,
    })
}

/// Whether `name` may name an event type: parts of `A-Z a-z 0-9 _ -` joined by dots.
pub fn is_valid_type_name(name: &str) -> bool {
    name.len() <= MAX_EVENT_TYPE_NAME_LEN
        && name.split('.').count() <= MAX_EVENT_TYPE_PARTS
        && name
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
}

/// Checks a tenant type's fields as they will be stored; the name only when `name` is set
/// (it is the id, fixed once created). A schema must be valid JSON Schema (no remote `$ref`).
pub fn check_event_type(def: &EventTypeDef, check_name: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if check_name && !is_valid_type_name(&def.name) {
        errors.push(FieldError::new(
            "name",
            format!(
                "1..={MAX_EVENT_TYPE_PARTS} parts of A-Z a-z 0-9 _ - joined by dots, \
                 at most {MAX_EVENT_TYPE_NAME_LEN} characters"
            ),
        ));
    }
    if def.description.chars().count() > MAX_EVENT_TYPE_DESCRIPTION_LEN {
        errors.push(FieldError::new("description", format!("at most {MAX_EVENT_TYPE_DESCRIPTION_LEN} characters")));
    }
    if let Some(family) = &def.family
        && (family.trim().is_empty() || family.chars().count() > MAX_FAMILY_LEN)
    {
        errors.push(FieldError::new("family", format!("1..={MAX_FAMILY_LEN} characters, not blank")));
    }
    if let Some(schema) = &def.schema {
        let size = serde_json::to_string(schema).map_or(usize::MAX, |s| s.len());
        if size > MAX_SCHEMA_BYTES {
            errors.push(FieldError::new("schema", format!("at most {MAX_SCHEMA_BYTES} bytes of JSON")));
        } else if let Err(problem) = PayloadSchema::compile(schema) {
            errors.push(FieldError::new("schema", problem));
        }
    }
    errors
}

/// The types one tenant may send and subscribe to: the default catalog and its own; for the
/// operator's tenant, the operational types alone.
#[derive(Clone, Debug)]
pub struct TenantCatalog {
    own: Vec<String>,
    /// Whether the default catalog is in it (not for the operator's tenant).
    defaults: bool,
}

impl Default for TenantCatalog {
    fn default() -> Self {
        Self { own: Vec::new(), defaults: true }
    }
}

impl TenantCatalog {
    pub fn new(own: impl IntoIterator<Item = String>) -> Self {
        Self { own: own.into_iter().collect(), defaults: true }
    }

    /// The default catalog alone (a tenant without types of its own).
    pub fn defaults() -> Self {
        Self::default()
    }

    /// What the operator's endpoints may subscribe to: the operational types.
    pub fn operational() -> Self {
        let own = crate::events::operational::OperationalType::ALL.map(|t| t.name().to_owned());
        Self { own: own.into(), defaults: false }
    }

    pub fn knows(&self, name: &str) -> bool {
        (self.defaults && is_default_type(name)) || self.own.iter().any(|own| own == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        let defaults = if self.defaults { default_types() } else { &[] };
        defaults.iter().map(|t| t.name.as_str()).chain(self.own.iter().map(String::as_str))
    }

    /// A subscription is valid when it is a known type, `*`, or a `family.*` wildcard that
    /// matches at least one known type.
    pub fn is_valid_subscription(&self, pattern: &str) -> bool {
        if pattern == "*" {
            return true;
        }
        if let Some(prefix) = pattern.strip_suffix(".*") {
            if prefix.is_empty() || prefix.contains('*') {
                return false;
            }
            return self.names().any(|name| pattern_matches(pattern, name));
        }
        self.knows(pattern)
    }
}

/// What an event's type turned out to be, for checking its payload.
#[derive(Clone, Debug)]
pub enum KnownType {
    /// A default catalog type (no schema).
    Default,
    /// One of the tenant's, with its compiled schema if it has one.
    Own(Option<Arc<PayloadSchema>>),
    /// Neither.
    Unknown,
}

/// Checks one event's type and payload: a known type (or unknown ones accepted by the
/// deployment), and a payload its schema allows. `field` prefixes the names (`events[2].`).
pub fn check_typed_payload(
    known: &KnownType,
    accept_unknown: bool,
    event_type: &str,
    payload: &serde_json::value::RawValue,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    match known {
        KnownType::Unknown if !accept_unknown => errors.push(FieldError::new(
            format!("{field}type"),
            format!("unknown event type {event_type:?} (see GET /v1/event-types)"),
        )),
        KnownType::Own(Some(schema)) => {
            if let Err((path, message)) = schema.check(payload) {
                errors.push(FieldError::new(format!("{field}payload{path}"), message));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dotted_parts_of_a_small_alphabet() {
        for good in ["invoice.paid", "invoice", "billing.invoice.payment-failed", "a_b.C-9"] {
            assert!(is_valid_type_name(good), "{good}");
        }
        for bad in ["", "invoice.", ".paid", "invoice..paid", "invoice.*", "in voice", "a#b", "é.x"] {
            assert!(!is_valid_type_name(bad), "{bad}");
        }
        assert!(is_valid_type_name(&"a".repeat(MAX_EVENT_TYPE_NAME_LEN)));
        assert!(!is_valid_type_name(&"a".repeat(MAX_EVENT_TYPE_NAME_LEN + 1)));
        assert!(!is_valid_type_name(&["a"; MAX_EVENT_TYPE_PARTS + 1].join(".")));
    }

    #[test]
    fn a_tenant_catalog_adds_its_own_types_and_families() {
        let catalog = TenantCatalog::new(["invoice.paid".to_owned(), "invoice.voided".to_owned()]);
        assert!(catalog.knows("invoice.paid") && catalog.knows("run.failed"));
        assert!(catalog.is_valid_subscription("invoice.*"));
        assert!(!TenantCatalog::defaults().is_valid_subscription("invoice.*"));
        assert!(!catalog.is_valid_subscription("invoice.created"));
        assert!(!catalog.is_valid_subscription(".*"));
    }
}
