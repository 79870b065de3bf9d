//! The [`ApiKeyStore`] port on DynamoDB: API keys.

use super::*;

impl ApiKeyStore for DynamoStore {
    async fn create_api_key(&self, key: &ApiKey, key_hash: &str) -> Result<(), StoreError> {
        let mut e = Expression::default();
        let condition = format!("attribute_not_exists({})", e.name(PARTITION_KEY));
        let request = self
            .client
            .put_item()
            .set_item(Some(api_key_item(key, key_hash)))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names());
        match self.put(request).await? {
            Written::Done(_) => Ok(()),
            Written::ConditionFailed(_) => Err(StoreError::Conflict("this API key exists".into())),
        }
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let item = self.get_item("GetItem", api_key_key(key_hash), true, &[]).await?;
        item.as_ref().map(api_key_from_item).transpose()
    }

    async fn list_api_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKey>, StoreError> {
        let mut e = Expression::default();
        let mut condition = format!("{} = {}", e.name(LISTING_PARTITION_KEY), e.value("pk", text(API_KEY_LISTING)));
        if let Some(tenant) = tenant {
            condition.push_str(&format!(
                " AND begins_with({}, {})",
                e.name(LISTING_SORT_KEY),
                e.value("tenant", text(format!("{tenant}#")))
            ));
        }
        let request = self
            .client
            .query()
            .table_name(&*self.table)
            .index_name(LISTING_INDEX)
            .key_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        let mut keys = self
            .query("Query", request, usize::MAX, |_| true)
            .await?
            .iter()
            .map(api_key_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(keys)
    }

    async fn delete_api_key(&self, id: &ApiKeyId) -> Result<(), StoreError> {
        // Admin-only and rare: find the key through the listing, then delete it by its hash.
        // The index is eventually consistent, so a key created a moment ago may not be in it
        // yet: look again a few times before answering NotFound.
        let mut found = None;
        for wait in INDEX_LAG_WAITS {
            tokio::time::sleep(wait).await;
            found = self.api_key_by_id(id).await?;
            if found.is_some() {
                break;
            }
        }
        let Some(key) = found else { return Err(StoreError::NotFound) };
        let request = self.client.delete_item().set_key(Some(key)).return_values(ReturnValue::AllOld);
        match self.delete(request).await? {
            Written::Done(old) if !old.is_empty() => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }
}
