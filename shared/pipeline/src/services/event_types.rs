//! Event types' use cases: a tenant's own types (create, change, archive, delete), the
//! catalog a tenant sees, and resolving an event's type (with its payload schema) for the
//! API and the dispatcher alike.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{ServiceError, UPDATE_ATTEMPTS};
use webhooks::endpoints::store::EndpointStore;
use webhooks::events::default_catalog::is_default_type;
use webhooks::events::operational::{OPERATOR_TENANT, OperationalType};
use webhooks::events::payload_schema::PayloadSchema;
use webhooks::events::store::EventTypeStore;
use webhooks::events::types::{EventTypeDef, KnownType, MAX_TENANT_EVENT_TYPES, TenantCatalog, check_event_type};
use webhooks::ports::{Clock, StoreError};

/// A new type as asked for.
#[derive(Debug, Clone, Default)]
pub struct NewEventType {
    pub name: String,
    pub description: Option<String>,
    pub family: Option<String>,
    pub schema: Option<Value>,
    pub archived: bool,
}

/// A change to a type: absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct EventTypeChange {
    pub description: Option<String>,
    /// `Some(None)` goes back to the name's first part.
    pub family: Option<Option<String>>,
    /// `Some(None)` removes the schema.
    pub schema: Option<Option<Value>>,
    pub archived: Option<bool>,
}

fn catalog_type(name: &str) -> ServiceError {
    ServiceError::Conflict(format!("{name:?} is a default catalog type, which cannot be created, changed or deleted"))
}

/// The types of `tenant` that endpoints may subscribe to.
pub async fn tenant_catalog<S: EventTypeStore>(store: &S, tenant: &str) -> Result<TenantCatalog, StoreError> {
    if tenant == OPERATOR_TENANT {
        return Ok(TenantCatalog::operational());
    }
    Ok(TenantCatalog::new(store.list_event_types(tenant).await?.into_iter().map(|def| def.name)))
}

/// The event type use cases over an event type store (and the endpoints, which a deleted
/// type must not leave with an invalid subscription).
pub struct EventTypes<'a, S, C> {
    pub store: &'a S,
    pub clock: &'a C,
}

impl<S: EventTypeStore + EndpointStore, C: Clock> EventTypes<'_, S, C> {
    /// `Invalid` naming every bad field; `Conflict` for a default type's name or one the
    /// tenant has; `LimitReached` past [`MAX_TENANT_EVENT_TYPES`].
    pub async fn create(&self, tenant: &str, new: NewEventType) -> Result<EventTypeDef, ServiceError> {
        let now = self.clock.now();
        let def = EventTypeDef {
            tenant: tenant.to_owned(),
            name: new.name,
            description: new.description.unwrap_or_default(),
            family: new.family,
            schema: new.schema,
            archived: new.archived,
            created_at: now,
            updated_at: now,
            version: 0,
        };
        ServiceError::check(check_event_type(&def, true))?;
        if is_default_type(&def.name) {
            return Err(catalog_type(&def.name));
        }
        // Read, then write: concurrent creates can pass the limit by their number, no more.
        if self.store.list_event_types(tenant).await?.len() >= MAX_TENANT_EVENT_TYPES {
            return Err(ServiceError::LimitReached(format!(
                "this tenant has reached its limit of {MAX_TENANT_EVENT_TYPES} event types; delete one first"
            )));
        }
        self.store.create_event_type(&def).await.map_err(|e| match e {
            StoreError::Conflict(_) => ServiceError::Conflict(format!("event type {:?} exists", def.name)),
            other => other.into(),
        })?;
        Ok(def)
    }

    /// The tenant's own type; `NotFound` if it has none of that name.
    pub async fn get(&self, tenant: &str, name: &str) -> Result<EventTypeDef, ServiceError> {
        self.store.get_event_type(tenant, name).await?.ok_or(ServiceError::NotFound)
    }

    /// Applies `change` (a read-modify-write that starts over when another write came first).
    pub async fn change(
        &self,
        tenant: &str,
        name: &str,
        change: EventTypeChange,
    ) -> Result<EventTypeDef, ServiceError> {
        if is_default_type(name) {
            return Err(catalog_type(name));
        }
        for _ in 0..UPDATE_ATTEMPTS {
            let mut def = self.get(tenant, name).await?;
            let change = change.clone();
            if let Some(description) = change.description {
                def.description = description;
            }
            if let Some(family) = change.family {
                def.family = family;
            }
            if let Some(schema) = change.schema {
                def.schema = schema;
            }
            if let Some(archived) = change.archived {
                def.archived = archived;
            }
            def.updated_at = self.clock.now();
            ServiceError::check(check_event_type(&def, false))?;
            match self.store.update_event_type(&def).await {
                Err(StoreError::Conflict(_)) => continue,
                other => return Ok(other?),
            }
        }
        Err(ServiceError::Conflict("the event type is being changed by another request; try again".into()))
    }

    /// Deletes the type; `Conflict` while an endpoint's subscription needs it (names it, or
    /// is a wildcard that would match nothing else): archive it instead, or change those
    /// endpoints first.
    pub async fn delete(&self, tenant: &str, name: &str) -> Result<(), ServiceError> {
        if is_default_type(name) {
            return Err(catalog_type(name));
        }
        let rest = TenantCatalog::new(
            self.store.list_event_types(tenant).await?.into_iter().map(|def| def.name).filter(|own| own != name),
        );
        let needing = self
            .store
            .subscribed_endpoints(tenant, name)
            .await?
            .into_iter()
            .filter(|endpoint| endpoint.events.iter().any(|pattern| !rest.is_valid_subscription(pattern)))
            .count();
        if needing > 0 {
            return Err(ServiceError::Conflict(format!(
                "{needing} endpoint(s) subscribe to {name:?} by name or by a wildcard that matches nothing else; \
                 archive the type instead, or change those endpoints first"
            )));
        }
        Ok(self.store.delete_event_type(tenant, name).await?)
    }
}

/// Finds what events' types are: default ones at once, a tenant's own with one store read
/// each, kept for the resolver's life (a request, or a dispatcher batch) with the compiled
/// schema.
pub struct TypeResolver<'a, S> {
    store: &'a S,
    known: Mutex<HashMap<(String, String), KnownType>>,
}

impl<'a, S: EventTypeStore> TypeResolver<'a, S> {
    pub fn new(store: &'a S) -> Self {
        Self { store, known: Mutex::new(HashMap::new()) }
    }

    /// `Backend` if the store fails, or if a stored schema no longer compiles.
    pub async fn resolve(&self, tenant: &str, name: &str) -> Result<KnownType, StoreError> {
        // The operator's tenant has the operational types, and nothing else.
        if tenant == OPERATOR_TENANT {
            let known = OperationalType::parse(name).is_some();
            return Ok(if known { KnownType::Default } else { KnownType::Unknown });
        }
        if is_default_type(name) {
            return Ok(KnownType::Default);
        }
        let key = (tenant.to_owned(), name.to_owned());
        if let Some(known) = self.known.lock().expect("type resolver").get(&key) {
            return Ok(known.clone());
        }
        let known = match self.store.get_event_type(tenant, name).await? {
            None => KnownType::Unknown,
            Some(def) => KnownType::Own(match &def.schema {
                None => None,
                Some(schema) => Some(Arc::new(PayloadSchema::compile(schema).map_err(|e| {
                    StoreError::Backend(
                        format!("the stored schema of event type {name:?} does not compile: {e}").into(),
                    )
                })?)),
            }),
        };
        self.known.lock().expect("type resolver").insert(key, known.clone());
        Ok(known)
    }
}
