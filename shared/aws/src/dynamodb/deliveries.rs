//! The [`DeliveryStore`] port on DynamoDB: deliveries and their attempts, each endpoint's in
//! a partition of its own, and the tenant's in the `listing` index (`D#{tenant}`, or one of
//! its [`shards`]: an event's deliveries share its shard).

use super::*;

impl DynamoStore {
    /// The listing partition of a delivery of `event_id`.
    fn delivery_listing(&self, tenant: &str, event_id: &str) -> String {
        shards::sharded(delivery_log_partition(tenant), shards::shard_of(event_id, self.shards))
    }
}

impl DeliveryStore for DynamoStore {
    async fn save_delivery(&self, delivery: &Delivery, attempt: Option<&Attempt>) -> Result<(), StoreError> {
        let mut e = Expression::default();
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        let mut set = |e: &mut Expression, attribute: &str, value: Option<AttributeValue>| match value {
            Some(value) => sets.push(format!("{} = {}", e.name(attribute), e.value(attribute, value))),
            None => removes.push(e.name(attribute)),
        };
        set(&mut e, "ep", Some(text(delivery.endpoint_id.as_str())));
        set(&mut e, "evt", Some(text(&delivery.event_id)));
        set(&mut e, "type", Some(text(&delivery.event_type)));
        set(&mut e, "status", Some(text(delivery.status.as_str())));
        set(&mut e, "http", delivery.http_status.map(number));
        set(&mut e, "created", Some(number(delivery.created_at.as_millis())));
        set(&mut e, "delivered", delivery.delivered_at.map(|at| number(at.as_millis())));
        set(&mut e, "retry_at", delivery.next_retry_at.map(|at| number(at.as_millis())));
        set(&mut e, "error", delivery.last_error.as_ref().map(text));
        set(&mut e, LISTING_PARTITION_KEY, Some(text(self.delivery_listing(&delivery.tenant, &delivery.event_id))));
        set(&mut e, LISTING_SORT_KEY, Some(text(delivery.id.as_str())));
        set(&mut e, TTL_ATTRIBUTE, Some(self.expires_at(delivery.created_at)));
        let count = format!(
            "{n} = if_not_exists({n}, {zero}) + {added}",
            n = e.name("n"),
            zero = e.value("zero", number(0)),
            added = e.value("added", number(attempt.is_some() as u32))
        );
        sets.push(count);
        if let Some(attempt) = attempt {
            let appended = format!(
                "{list} = list_append(if_not_exists({list}, {empty}), {new})",
                list = e.name("attempts"),
                empty = e.value("empty", AttributeValue::L(Vec::new())),
                new = e.value("new", AttributeValue::L(vec![attempt_value(attempt)]))
            );
            sets.push(appended);
        }
        let mut update = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let request = self
            .client
            .update_item()
            .set_key(Some(delivery_key(&delivery.tenant, delivery.endpoint_id.as_str(), delivery.id.as_str())))
            .update_expression(update)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        self.update(request).await.map(|_| ())
    }

    async fn requeue_delivery(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
        attempts: u32,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut e = Expression::default();
        let update = format!(
            "SET {status} = {pending}, {retry_at} = {at}",
            status = e.name("status"),
            pending = e.value("pending", text(DeliveryStatus::Pending.as_str())),
            retry_at = e.name("retry_at"),
            at = e.value("at", number(at.as_millis()))
        );
        let condition = format!(
            "{status} IN ({failed}, {delivered}) AND {n} = {attempts}",
            status = e.name("status"),
            failed = e.value("failed", text(DeliveryStatus::Failed.as_str())),
            delivered = e.value("delivered", text(DeliveryStatus::Delivered.as_str())),
            n = e.name("n"),
            attempts = e.value("attempts", number(attempts))
        );
        let request = self
            .client
            .update_item()
            .set_key(Some(delivery_key(tenant, endpoint_id.as_str(), id.as_str())))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        Ok(matches!(self.update(request).await?, Written::Done(_)))
    }

    async fn get_delivery(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
    ) -> Result<DeliveryDetail, StoreError> {
        let key = delivery_key(tenant, endpoint_id.as_str(), id.as_str());
        let item = self.get_item("GetItem", key, true, &[]).await?.ok_or(StoreError::NotFound)?;
        let delivery = delivery_from_item(tenant, &item)?;
        let event = self.get_item("GetItem", event_key(tenant, &delivery.event_id), false, &[]).await?;
        let payload = event.as_ref().map_or(Ok(None), payloads::read)?;
        Ok(DeliveryDetail { attempts: attempts_from_item(&item)?, delivery, payload })
    }

    async fn delivery_status(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        id: &DeliveryId,
    ) -> Result<Option<DeliveryStatus>, StoreError> {
        let key = delivery_key(tenant, endpoint_id.as_str(), id.as_str());
        match self.get_item("GetItem", key, true, &["status"]).await? {
            Some(item) => delivery_status_from_item(&item).map(Some),
            None => Ok(None),
        }
    }

    async fn event_deliveries(
        &self,
        tenant: &str,
        event_id: &str,
        received_at: Timestamp,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (low, high) = DeliveryId::time_range(received_at);
        let mut e = Expression::default();
        let condition = format!(
            "{} = {} AND {} BETWEEN {} AND {}",
            e.name(LISTING_PARTITION_KEY),
            e.value("pk", text(self.delivery_listing(tenant, event_id))),
            e.name(LISTING_SORT_KEY),
            e.value("low", text(low)),
            e.value("high", text(high)),
        );
        let request = self
            .client
            .query()
            .table_name(&*self.table)
            .index_name(LISTING_INDEX)
            .key_condition_expression(condition)
            .filter_expression(format!("{} = {}", e.name("evt"), e.value("evt", text(event_id))))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        let items = self.query("Query", request, usize::MAX, |_| true).await?;
        let mut deliveries =
            items.iter().map(|item| delivery_from_item(tenant, item)).collect::<Result<Vec<_>, _>>()?;
        deliveries.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
        Ok(deliveries)
    }

    async fn list_deliveries(&self, tenant: &str, query: &DeliveryQuery) -> Result<Page<Delivery>, StoreError> {
        let mut e = Expression::default();
        let (index, partition, sort, partition_value) = match &query.endpoint_id {
            Some(endpoint_id) => (None, PARTITION_KEY, SORT_KEY, delivery_partition(tenant, endpoint_id.as_str())),
            None => (Some(LISTING_INDEX), LISTING_PARTITION_KEY, LISTING_SORT_KEY, delivery_log_partition(tenant)),
        };
        let mut condition = format!("{} = {}", e.name(partition), e.value("pk", text(partition_value.clone())));
        if let Some(before) = &query.before {
            condition.push_str(&format!(" AND {} < {}", e.name(sort), e.value("before", text(before.as_str()))));
        }
        let mut filters = Vec::new();
        if let Some(status) = query.status {
            filters.push(format!("{} = {}", e.name("status"), e.value("status", text(status.as_str()))));
        }
        if let Some(event_type) = &query.event_type {
            filters.push(format!("{} = {}", e.name("type"), e.value("type", text(event_type))));
        }
        let filtered = !filters.is_empty();
        let request = self
            .client
            .query()
            .table_name(&*self.table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression(condition)
            .set_filter_expression((!filters.is_empty()).then(|| filters.join(" AND ")))
            .projection_expression(
                ["pk", "sk", "ep", "evt", "type", "status", "http", "n", "created", "delivered", "retry_at", "error"]
                    .map(|name| e.name(name))
                    .join(", "),
            )
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .scan_index_forward(false)
            // A filter drops items after the limit is applied, so read more per request.
            .limit(if filtered { 100 } else { query.limit as i32 + 1 });
        let want = query.limit + 1;
        let items = match &query.endpoint_id {
            Some(_) => self.query("Query", request, want, |_| true).await?,
            None => {
                let shards = self.query_shards(request, &partition_value, want).await?;
                shards::merge_newest_first(shards, want, |item| optional_text(item, SORT_KEY).unwrap_or_default())
            }
        };
        let deliveries = items.iter().map(|item| delivery_from_item(tenant, item)).collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(deliveries, query.limit, |delivery| delivery.id.as_str()))
    }
}
