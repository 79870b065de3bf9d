//! The [`EndpointStore`] port on DynamoDB: endpoints: their configuration, subscriptions and failure counts.

use super::*;

impl EndpointStore for DynamoStore {
    async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), StoreError> {
        let mut e = Expression::default();
        let condition = format!("attribute_not_exists({})", e.name(PARTITION_KEY));
        let put = Put::builder()
            .table_name(&*self.table)
            .set_item(Some(endpoint_item(endpoint)))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .build()
            .expect("table and item set");
        let patterns: Vec<&str> =
            endpoint.events.iter().map(String::as_str).collect::<BTreeSet<_>>().into_iter().collect();
        // Indexed first: see `subscriptions.rs` for why this order loses nothing.
        self.add_subscriptions(endpoint, &patterns).await?;
        let actions = || {
            vec![
                TransactWriteItem::builder().put(put.clone()).build(),
                self.subscriptions_version_bump(&endpoint.tenant),
            ]
        };
        match self.write_endpoint(endpoint, true, actions).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::Conflict("an endpoint with this id exists".into())),
            Err(StoreError::Taken(message)) => {
                // Refused, so nothing holds this new id: take its index items back.
                self.remove_subscriptions(endpoint, &patterns).await?;
                Err(StoreError::Taken(message))
            }
            Err(error) => Err(error),
        }
    }

    async fn get_endpoint(&self, tenant: &str, id: &EndpointId) -> Result<Endpoint, StoreError> {
        let item = self.get_item("GetItem", endpoint_key(tenant, id.as_str()), true, &[]).await?;
        endpoint_from_item(tenant, &item.ok_or(StoreError::NotFound)?)
    }

    async fn find_endpoint_by_uid(&self, tenant: &str, uid: &str) -> Result<Endpoint, StoreError> {
        self.endpoint_by_uid(tenant, uid).await
    }

    async fn list_endpoints(&self, tenant: &str, query: &EndpointQuery) -> Result<Page<Endpoint>, StoreError> {
        let from = match &query.after {
            Some(after) => endpoint_sort_key(after.as_str()),
            None => ENDPOINT_SORT_PREFIX.to_owned(),
        };
        let mut e = Expression::default();
        let condition = format!(
            "{} = {} AND {} > {}",
            e.name(PARTITION_KEY),
            e.value("pk", text(tenant_partition(tenant))),
            e.name(SORT_KEY),
            e.value("from", text(from))
        );
        let request = self
            .client
            .query()
            .table_name(&*self.table)
            .key_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .consistent_read(true)
            .limit(query.limit as i32 + 1);
        let is_endpoint =
            |item: &Item| optional_text(item, SORT_KEY).is_some_and(|sk| sk.starts_with(ENDPOINT_SORT_PREFIX));
        let items = self.query("Query", request, query.limit + 1, is_endpoint).await?;
        let endpoints = items.iter().map(|item| endpoint_from_item(tenant, item)).collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(endpoints, query.limit, |endpoint| endpoint.id.as_str()))
    }

    async fn count_endpoints(&self, tenant: &str, at_most: usize) -> Result<usize, StoreError> {
        let request = self
            .prefix_query(tenant_partition(tenant), ENDPOINT_SORT_PREFIX, None)
            .consistent_read(true)
            .limit(i32::try_from(at_most).unwrap_or(i32::MAX).max(1));
        self.count(request, at_most).await
    }

    async fn update_endpoint(&self, endpoint: &Endpoint) -> Result<Endpoint, StoreError> {
        let stored = self.get_endpoint(&endpoint.tenant, &endpoint.id).await?;
        if stored.version != endpoint.version {
            return Err(StoreError::Conflict("the endpoint changed since it was read".into()));
        }
        let mut updated = endpoint.clone();
        updated.version += 1;
        let mut e = Expression::default();
        let condition = format!("{} = {}", e.name("ver"), e.value("ver", number(endpoint.version)));
        let put = Put::builder()
            .table_name(&*self.table)
            .set_item(Some(endpoint_item(&updated)))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .build()
            .expect("table and item set");
        let before: BTreeSet<&str> = stored.events.iter().map(String::as_str).collect();
        let after: BTreeSet<&str> = updated.events.iter().map(String::as_str).collect();
        // Gained patterns indexed first, lost ones removed after (see `subscriptions.rs`).
        self.add_subscriptions(&updated, &after.difference(&before).copied().collect::<Vec<_>>()).await?;
        let actions = || {
            vec![
                TransactWriteItem::builder().put(put.clone()).build(),
                self.subscriptions_version_bump(&updated.tenant),
            ]
        };
        let claim = updated.uid.is_some() && updated.uid != stored.uid;
        if self.write_endpoint(&updated, claim, actions).await? {
            self.remove_subscriptions(&updated, &before.difference(&after).copied().collect::<Vec<_>>()).await?;
            if let Some(old) = stored.uid.as_deref().filter(|old| updated.uid.as_deref() != Some(*old)) {
                self.release_uid(&updated.tenant, old, updated.id.as_str()).await?;
            }
            Ok(updated)
        } else {
            // Gone since the read, or written by someone else.
            self.get_endpoint(&endpoint.tenant, &endpoint.id).await?;
            Err(StoreError::Conflict("the endpoint changed since it was read".into()))
        }
    }

    async fn delete_endpoint(&self, tenant: &str, id: &EndpointId) -> Result<(), StoreError> {
        let mut e = Expression::default();
        let condition = format!("attribute_exists({})", e.name(PARTITION_KEY));
        let request = self
            .client
            .delete_item()
            .set_key(Some(endpoint_key(tenant, id.as_str())))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .return_values(ReturnValue::AllOld);
        let Written::Done(old) = self.delete(request).await? else { return Err(StoreError::NotFound) };
        // The endpoint is gone, so nothing reaches it any more; what follows is tidying, and a
        // subscription item left by a crash here points at nothing and is skipped.
        self.bump_subscriptions_version(tenant).await?;
        let endpoint = endpoint_from_item(tenant, &old)?;
        if let Some(uid) = &endpoint.uid {
            self.release_uid(tenant, uid, id.as_str()).await?;
        }
        let patterns: BTreeSet<&str> = endpoint.events.iter().map(String::as_str).collect();
        let subscriptions =
            patterns.into_iter().map(|pattern| subscription_key(tenant, pattern, id.as_str())).collect();
        self.batch_delete(subscriptions).await?;
        self.delete_deliveries(tenant, id.as_str()).await
    }

    async fn subscribed_endpoints(&self, tenant: &str, event_type: &str) -> Result<Vec<Endpoint>, StoreError> {
        let lookups = patterns_matching(event_type).into_iter().map(|pattern| {
            let request = self.prefix_query(tenant_partition(tenant), &subscription_prefix(&pattern), Some(SORT_KEY));
            self.query("Query", request, usize::MAX, |_| true)
        });
        let mut ids = BTreeSet::new();
        for items in try_join_all(lookups).await? {
            for item in items {
                let sort_key = get_text(&item, SORT_KEY)?;
                if let Some((_, id)) = sort_key.rsplit_once('#') {
                    ids.insert(id.to_owned());
                }
            }
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys = ids.iter().map(|id| endpoint_key(tenant, id)).collect();
        let mut endpoints = self
            .batch_get(keys)
            .await?
            .iter()
            .map(|item| endpoint_from_item(tenant, item))
            .collect::<Result<Vec<_>, _>>()?;
        // An index item a crash or a race left behind points at an endpoint that no longer
        // holds the pattern: the endpoint item decides.
        endpoints.retain(|endpoint| endpoint.events.iter().any(|pattern| pattern_matches(pattern, event_type)));
        endpoints.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(endpoints)
    }

    async fn subscriptions_version(&self, tenant: &str) -> Result<u64, StoreError> {
        let item = self.get_item("GetItem", subscriptions_version_key(tenant), true, &["ver"]).await?;
        Ok(match item {
            Some(item) => get_number(&item, "ver")?,
            None => 0,
        })
    }

    async fn record_failure(
        &self,
        tenant: &str,
        id: &EndpointId,
        disable_after: u32,
        reason: &str,
    ) -> Result<FailureCount, StoreError> {
        for _ in 0..FAILURE_COUNT_ROUNDS {
            if let Some(failure_count) = self.count_failure(tenant, id, disable_after, None).await? {
                return Ok(FailureCount { failure_count, disabled_now: false });
            }
            if let Some(failure_count) = self.count_failure(tenant, id, disable_after, Some(reason)).await? {
                self.bump_subscriptions_version(tenant).await?;
                return Ok(FailureCount { failure_count, disabled_now: true });
            }
        }
        Err(StoreError::Conflict("the failure counter kept changing".into()))
    }

    async fn count_disabled_endpoints(&self) -> Result<u64, StoreError> {
        let mut e = Expression::default();
        let condition =
            format!("{} = {}", e.name(LISTING_PARTITION_KEY), e.value("pk", text(DISABLED_ENDPOINTS_LISTING)));
        let request = self
            .client
            .query()
            .table_name(&*self.table)
            .index_name(LISTING_INDEX)
            .key_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        Ok(self.count(request, usize::MAX).await? as u64)
    }

    async fn reset_failures(&self, tenant: &str, id: &EndpointId) -> Result<(), StoreError> {
        let mut e = Expression::default();
        let update = format!(
            "SET {failures} = {zero} ADD {ver} {one}",
            failures = e.name("failures"),
            zero = e.value("zero", number(0)),
            ver = e.name("ver"),
            one = e.value("one", number(1))
        );
        let condition = format!("{} > {}", e.name("failures"), e.value("zero", number(0)));
        let request = self
            .client
            .update_item()
            .set_key(Some(endpoint_key(tenant, id.as_str())))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        // A failed condition: already zero, or gone; nothing to reset.
        self.update(request).await.map(|_| ())
    }
}
