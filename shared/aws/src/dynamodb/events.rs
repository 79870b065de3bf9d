//! The [`EventStore`] port on DynamoDB: events, stored once.

use super::*;

impl EventStore for DynamoStore {
    async fn record_event(&self, event: &Event, message_id: &str) -> Result<EventRecord, StoreError> {
        let mut item = event_key(&event.tenant, &event.id);
        item.extend([
            ("type".to_owned(), text(&event.event_type)),
            ("payload".to_owned(), text(event.payload.get())),
            ("msg".to_owned(), text(message_id)),
            ("created".to_owned(), number(event.created_at.as_millis())),
            (TTL_ATTRIBUTE.to_owned(), self.expires_at(event.created_at)),
        ]);
        if let Some(entity) = &event.entity_id {
            item.insert("entity".to_owned(), text(serde_json::to_string(entity).expect("entity ids serialize")));
        }
        let mut e = Expression::default();
        let condition = format!("attribute_not_exists({})", e.name(PARTITION_KEY));
        let request = self
            .client
            .put_item()
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        Ok(match self.put(request).await? {
            Written::Done(_) => EventRecord::New,
            Written::ConditionFailed(first) => {
                let first_message = first.as_ref().and_then(|item| optional_text(item, "msg"));
                if first_message == Some(message_id) { EventRecord::SameMessage } else { EventRecord::Duplicate }
            }
        })
    }

    async fn event_payload(&self, tenant: &str, event_id: &str) -> Result<Option<Box<RawValue>>, StoreError> {
        // Consistent: the dispatcher wrote the event a moment before the delivery's message.
        let event = self.get_item("GetItem", event_key(tenant, event_id), true, &["payload"]).await?;
        let Some(text) = event.as_ref().and_then(|event| optional_text(event, "payload")) else { return Ok(None) };
        RawValue::from_string(text.to_owned()).map(Some).map_err(|_| malformed("payload"))
    }
}
