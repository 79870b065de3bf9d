//! The [`EventTypeStore`] port on DynamoDB: a tenant's own event types, one item each in
//! the tenant's partition (`ET#{name}`), read with one GetItem or one Query.

use webhooks::events::store::EventTypeStore;
use webhooks::events::types::EventTypeDef;

use super::*;

fn event_type_key(tenant: &str, name: &str) -> Item {
    key(tenant_partition(tenant), event_type_sort_key(name))
}

fn event_type_item(def: &EventTypeDef) -> Item {
    let mut item = event_type_key(&def.tenant, &def.name);
    item.extend([
        ("name".to_owned(), text(&def.name)),
        ("desc".to_owned(), text(&def.description)),
        ("archived".to_owned(), AttributeValue::Bool(def.archived)),
        ("created".to_owned(), number(def.created_at.as_millis())),
        ("updated".to_owned(), number(def.updated_at.as_millis())),
        ("ver".to_owned(), number(def.version)),
    ]);
    if let Some(family) = &def.family {
        item.insert("family".to_owned(), text(family));
    }
    if let Some(schema) = &def.schema {
        item.insert("schema".to_owned(), text(serde_json::to_string(schema).expect("JSON serializes")));
    }
    item
}

fn event_type_from_item(tenant: &str, item: &Item) -> Result<EventTypeDef, StoreError> {
    let schema = optional_text(item, "schema")
        .map(|text| serde_json::from_str(text).map_err(|_| malformed("schema")))
        .transpose()?;
    Ok(EventTypeDef {
        tenant: tenant.to_owned(),
        name: get_text(item, "name")?.to_owned(),
        description: get_text(item, "desc")?.to_owned(),
        family: optional_text(item, "family").map(str::to_owned),
        schema,
        archived: matches!(item.get("archived"), Some(AttributeValue::Bool(true))),
        created_at: Timestamp::from_millis(get_number(item, "created")?),
        updated_at: Timestamp::from_millis(get_number(item, "updated")?),
        version: get_number(item, "ver")?,
    })
}

impl EventTypeStore for DynamoStore {
    async fn create_event_type(&self, def: &EventTypeDef) -> Result<(), StoreError> {
        let mut e = Expression::default();
        let condition = format!("attribute_not_exists({})", e.name(PARTITION_KEY));
        let request = self
            .client
            .put_item()
            .set_item(Some(event_type_item(def)))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names());
        match self.put(request).await? {
            Written::Done(_) => Ok(()),
            Written::ConditionFailed(_) => Err(StoreError::Conflict("this event type exists".into())),
        }
    }

    async fn get_event_type(&self, tenant: &str, name: &str) -> Result<Option<EventTypeDef>, StoreError> {
        let item = self.get_item("GetItem", event_type_key(tenant, name), true, &[]).await?;
        item.as_ref().map(|item| event_type_from_item(tenant, item)).transpose()
    }

    async fn list_event_types(&self, tenant: &str) -> Result<Vec<EventTypeDef>, StoreError> {
        let request = self.prefix_query(tenant_partition(tenant), EVENT_TYPE_SORT_PREFIX, None).consistent_read(true);
        let items = self.query("Query", request, usize::MAX, |_| true).await?;
        items.iter().map(|item| event_type_from_item(tenant, item)).collect()
    }

    async fn update_event_type(&self, def: &EventTypeDef) -> Result<EventTypeDef, StoreError> {
        let mut updated = def.clone();
        updated.version += 1;
        let mut e = Expression::default();
        let condition = format!("{} = {}", e.name("ver"), e.value("ver", number(def.version)));
        let request = self
            .client
            .put_item()
            .set_item(Some(event_type_item(&updated)))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match self.put(request).await? {
            Written::Done(_) => Ok(updated),
            Written::ConditionFailed(Some(_)) => {
                Err(StoreError::Conflict("the event type was changed meanwhile".into()))
            }
            Written::ConditionFailed(None) => Err(StoreError::NotFound),
        }
    }

    async fn delete_event_type(&self, tenant: &str, name: &str) -> Result<(), StoreError> {
        let request =
            self.client.delete_item().set_key(Some(event_type_key(tenant, name))).return_values(ReturnValue::AllOld);
        match self.delete(request).await? {
            Written::Done(old) if !old.is_empty() => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }
}
