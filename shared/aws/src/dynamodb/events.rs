//! The [`EventStore`] port on DynamoDB: events, stored once, and the tenant's event log: a
//! small entry per event (no payload, one write unit whatever the payload's size) in the
//! partition `EVL#{tenant}` (or one of its [`shards`]), sorted by receive time.

use super::*;

impl EventStore for DynamoStore {
    async fn record_event(&self, event: &Event, message_id: &str) -> Result<EventRecord, StoreError> {
        let mut item = event_key(&event.tenant, &event.id);
        let (payload_name, payload) = payloads::stored(event.payload.get());
        item.extend([
            ("type".to_owned(), text(&event.event_type)),
            (payload_name.to_owned(), payload),
            ("msg".to_owned(), text(message_id)),
            ("created".to_owned(), number(event.created_at.as_millis())),
            (TTL_ATTRIBUTE.to_owned(), self.expires_at(event.created_at)),
        ]);
        let entity = event.entity_id.as_ref().map(|entity| text(serde_json::to_string(entity).expect("ids serialize")));
        insert_entity(&mut item, entity.clone());
        let mut e = Expression::default();
        let condition = format!("attribute_not_exists({})", e.name(PARTITION_KEY));
        let request = self
            .client
            .put_item()
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let recorded = match self.put(request).await? {
            Written::Done(_) => EventRecord::New,
            Written::ConditionFailed(first) => {
                let first_message = first.as_ref().and_then(|item| optional_text(item, "msg"));
                if first_message == Some(message_id) { EventRecord::SameMessage } else { EventRecord::Duplicate }
            }
        };
        if recorded != EventRecord::Duplicate {
            // After the event, so a listed event always reads back; a crash between the two
            // leaves an unlisted event, which its redelivery (SameMessage) lists.
            let log = shards::sharded(event_log_partition(&event.tenant), shards::shard_of(&event.id, self.shards));
            let mut entry = key(log, event_log_sort_key(event.created_at.as_millis(), &event.id));
            entry.extend([
                ("type".to_owned(), text(&event.event_type)),
                ("created".to_owned(), number(event.created_at.as_millis())),
                (TTL_ATTRIBUTE.to_owned(), self.expires_at(event.created_at)),
            ]);
            insert_entity(&mut entry, entity);
            self.put(self.client.put_item().set_item(Some(entry))).await?;
        }
        Ok(recorded)
    }

    async fn event_payload(&self, tenant: &str, event_id: &str) -> Result<Option<Box<RawValue>>, StoreError> {
        // Consistent: the dispatcher wrote the event a moment before the delivery's message.
        let event = self.get_item("GetItem", event_key(tenant, event_id), true, &payloads::ATTRIBUTES).await?;
        event.as_ref().map_or(Ok(None), payloads::read)
    }

    async fn get_event(&self, tenant: &str, event_id: &str) -> Result<Option<Event>, StoreError> {
        let Some(item) = self.get_item("GetItem", event_key(tenant, event_id), true, &[]).await? else {
            return Ok(None);
        };
        Ok(Some(Event {
            tenant: tenant.to_owned(),
            id: event_id.to_owned(),
            event_type: get_text(&item, "type")?.to_owned(),
            entity_id: entity_of(&item)?,
            payload: payloads::read(&item)?.ok_or_else(|| malformed(payloads::PLAIN))?,
            created_at: Timestamp::from_millis(get_number(&item, "created")?),
        }))
    }

    async fn list_events(&self, tenant: &str, query: &EventQuery) -> Result<Page<EventSummary>, StoreError> {
        let mut e = Expression::default();
        let mut condition = format!("{} = {}", e.name(PARTITION_KEY), e.value("pk", text(event_log_partition(tenant))));
        let before = query.before.as_ref().map(|b| event_log_sort_key(b.created_at.as_millis(), &b.id));
        match (&query.since, &before) {
            // BETWEEN is inclusive: the cursor's own event comes back, and is dropped below.
            (Some(since), Some(before)) => condition.push_str(&format!(
                " AND {} BETWEEN {} AND {}",
                e.name(SORT_KEY),
                e.value("since", text(event_log_sort_key(since.as_millis(), ""))),
                e.value("before", text(before)),
            )),
            (Some(since), None) => condition.push_str(&format!(
                " AND {} >= {}",
                e.name(SORT_KEY),
                e.value("since", text(event_log_sort_key(since.as_millis(), "")))
            )),
            (None, Some(before)) => {
                condition.push_str(&format!(" AND {} < {}", e.name(SORT_KEY), e.value("before", text(before))))
            }
            (None, None) => {}
        }
        let filter = query.event_type.as_ref().map(|t| format!("{} = {}", e.name("type"), e.value("type", text(t))));
        let filtered = filter.is_some();
        let request = self
            .client
            .query()
            .table_name(&*self.table)
            .key_condition_expression(condition)
            .set_filter_expression(filter)
            .consistent_read(true)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .scan_index_forward(false)
            // The cursor's own event comes back too (BETWEEN), and one more says there is a
            // next page: with fewer, a page would take a second request per shard.
            .limit(if filtered { 100 } else { query.limit as i32 + 2 });
        let want = query.limit + 2;
        let shards = self.query_shards(request, &event_log_partition(tenant), want).await?;
        let mut items =
            shards::merge_newest_first(shards, want, |item| optional_text(item, SORT_KEY).unwrap_or_default());
        if let Some(before) = &before {
            items.retain(|item| optional_text(item, SORT_KEY) != Some(before.as_str()));
        }
        let events = items
            .iter()
            .map(|item| {
                let sort = get_text(item, SORT_KEY)?;
                let (_, id) = sort.split_once('#').ok_or_else(|| malformed(SORT_KEY))?;
                Ok(EventSummary {
                    id: id.to_owned(),
                    event_type: get_text(item, "type")?.to_owned(),
                    entity_id: entity_of(item)?,
                    created_at: Timestamp::from_millis(get_number(item, "created")?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(event_page(events, query.limit))
    }
}

fn insert_entity(item: &mut Item, entity: Option<AttributeValue>) {
    if let Some(entity) = entity {
        item.insert("entity".to_owned(), entity);
    }
}

fn entity_of(item: &Item) -> Result<Option<webhooks::events::EntityId>, StoreError> {
    optional_text(item, "entity").map(|text| serde_json::from_str(text).map_err(|_| malformed("entity"))).transpose()
}
