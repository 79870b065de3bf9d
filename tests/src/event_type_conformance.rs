//! The [`EventTypeStore`] contract, run against every adapter by `conformance::store`.

use serde_json::json;
use webhooks::events::store::EventTypeStore;
use webhooks::events::types::EventTypeDef;
use webhooks::ports::StoreError;
use webhooks::time::Timestamp;

fn def(tenant: &str, name: &str) -> EventTypeDef {
    let now = Timestamp::now();
    EventTypeDef {
        tenant: tenant.to_owned(),
        name: name.to_owned(),
        description: "An invoice was paid".into(),
        family: Some("Billing".into()),
        schema: Some(json!({"type": "object", "properties": {"amount": {"type": "integer", "minimum": 0.5}}})),
        archived: false,
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

/// Types: a conditional create, read back whole, listed per tenant by name, replaced only
/// at the version read, deleted; and each method's failure.
pub async fn event_types<S: EventTypeStore>(store: &S) {
    let now = Timestamp::now().as_millis();
    let (tenant, other) = (format!("t{now}"), format!("t{now}-other"));
    let paid = def(&tenant, "invoice.paid");
    let bare = EventTypeDef { family: None, schema: None, description: String::new(), ..def(&tenant, "invoice") };
    store.create_event_type(&paid).await.unwrap();
    store.create_event_type(&bare).await.unwrap();
    store.create_event_type(&def(&other, "invoice.paid")).await.unwrap();
    assert!(matches!(store.create_event_type(&paid).await, Err(StoreError::Conflict(_))));

    assert_eq!(store.get_event_type(&tenant, "invoice.paid").await.unwrap(), Some(paid.clone()));
    assert_eq!(store.get_event_type(&tenant, "invoice").await.unwrap(), Some(bare.clone()));
    assert_eq!(store.get_event_type(&tenant, "invoice.voided").await.unwrap(), None);
    assert_eq!(store.get_event_type(&format!("{tenant}x"), "invoice.paid").await.unwrap(), None);
    let names = |list: Vec<EventTypeDef>| list.into_iter().map(|d| (d.tenant, d.name)).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_event_types(&tenant).await.unwrap()),
        [(tenant.clone(), "invoice".to_owned()), (tenant.clone(), "invoice.paid".to_owned())]
    );
    assert!(store.list_event_types(&format!("{tenant}-none")).await.unwrap().is_empty());

    // Replaced at the version read; a stale version is refused, a gone type is NotFound.
    let changed = EventTypeDef { archived: true, schema: None, family: None, ..paid.clone() };
    let written = store.update_event_type(&changed).await.unwrap();
    assert_eq!(written.version, paid.version + 1);
    assert_eq!(store.get_event_type(&tenant, "invoice.paid").await.unwrap(), Some(written.clone()));
    assert!(matches!(store.update_event_type(&changed).await, Err(StoreError::Conflict(_))));
    let ghost = def(&tenant, "invoice.ghost");
    assert_eq!(store.update_event_type(&ghost).await, Err(StoreError::NotFound));
    assert_eq!(store.get_event_type(&tenant, "invoice.ghost").await.unwrap(), None, "an update never creates");

    store.delete_event_type(&tenant, "invoice.paid").await.unwrap();
    assert_eq!(store.get_event_type(&tenant, "invoice.paid").await.unwrap(), None);
    assert_eq!(store.delete_event_type(&tenant, "invoice.paid").await, Err(StoreError::NotFound));
    assert!(store.get_event_type(&other, "invoice.paid").await.unwrap().is_some(), "the other tenant's stays");
}
