//! The [`PortalSessionStore`] port on DynamoDB. Three items per session, written and deleted
//! together in one transaction, each read strongly consistent (no index lags behind a
//! revocation): the session by its token's hash (what every request reads), its id's item
//! (revoking by id) and its entry in the tenant's partition (revoking every session of the
//! tenant). The TTL removes them an hour after they expire.

use aws_sdk_dynamodb::types::Delete;

use super::*;
use webhooks::ids::PortalSessionId;
use webhooks::security::portal_sessions::{PortalSession, PortalSessionStore};

/// Kept this long past its expiry (the service refuses it from the expiry on).
const KEPT_AFTER_EXPIRY_SECONDS: i64 = 3600;

fn session_item(session: &PortalSession, token_hash: &str) -> Item {
    let mut item = key(portal_session_partition(token_hash), PORTAL_SESSION_SORT_KEY);
    item.insert("id".into(), text(session.id.as_str()));
    item.insert("tenant".into(), text(&session.tenant));
    if let Some(endpoints) = &session.endpoints {
        item.insert("endpoints".into(), json(endpoints));
    }
    item.insert("read_only".into(), AttributeValue::Bool(session.read_only));
    item.insert("created".into(), number(session.created_at.as_millis()));
    item.insert("expires".into(), number(session.expires_at.as_millis()));
    item
}

fn session_from_item(item: &Item) -> Result<PortalSession, StoreError> {
    Ok(PortalSession {
        id: PortalSessionId::parse(get_text(item, "id")?).ok_or_else(|| malformed("id"))?,
        tenant: get_text(item, "tenant")?.to_owned(),
        endpoints: item.contains_key("endpoints").then(|| get_json(item, "endpoints")).transpose()?,
        read_only: get_bool(item, "read_only")?,
        created_at: Timestamp::from_millis(get_number(item, "created")?),
        expires_at: Timestamp::from_millis(get_number(item, "expires")?),
    })
}

/// The three items' keys: by token hash, by id, in the tenant's partition.
fn session_keys(tenant: &str, id: &str, token_hash: &str) -> [Item; 3] {
    [
        key(portal_session_partition(token_hash), PORTAL_SESSION_SORT_KEY),
        key(portal_session_id_partition(id), PORTAL_SESSION_SORT_KEY),
        key(tenant_partition(tenant), portal_session_sort_key(id)),
    ]
}

impl PortalSessionStore for DynamoStore {
    async fn create_portal_session(&self, session: &PortalSession, token_hash: &str) -> Result<(), StoreError> {
        let expires = number(session.expires_at.unix_seconds() + KEPT_AFTER_EXPIRY_SECONDS);
        let [_, by_id, in_tenant] = session_keys(&session.tenant, session.id.as_str(), token_hash);
        let mut items = [session_item(session, token_hash), by_id, in_tenant];
        for item in &mut items[1..] {
            item.insert("tenant".into(), text(&session.tenant));
            item.insert("hash".into(), text(token_hash));
        }
        let actions = items
            .into_iter()
            .map(|mut item| {
                item.insert(TTL_ATTRIBUTE.into(), expires.clone());
                let mut e = Expression::default();
                let put = Put::builder()
                    .table_name(&*self.table)
                    .set_item(Some(item))
                    .condition_expression(format!("attribute_not_exists({})", e.name(PARTITION_KEY)))
                    .set_expression_attribute_names(e.names())
                    .build()
                    .expect("table and item set");
                TransactWriteItem::builder().put(put).build()
            })
            .collect();
        match self.transact("TransactWriteItems", actions).await {
            Ok(()) => Ok(()),
            Err(error) if (0..3).any(|at| condition_failed_at(&error, at)) => {
                Err(StoreError::Conflict("this portal session exists".into()))
            }
            Err(error) => Err(backend(error)),
        }
    }

    async fn find_portal_session(&self, token_hash: &str) -> Result<Option<PortalSession>, StoreError> {
        let key = key(portal_session_partition(token_hash), PORTAL_SESSION_SORT_KEY);
        let item = self.get_item("GetItem", key, true, &[]).await?;
        item.as_ref().map(session_from_item).transpose()
    }

    async fn delete_portal_session(
        &self,
        tenant: Option<&str>,
        id: &PortalSessionId,
    ) -> Result<PortalSession, StoreError> {
        let by_id = key(portal_session_id_partition(id.as_str()), PORTAL_SESSION_SORT_KEY);
        let Some(found) = self.get_item("GetItem", by_id, true, &[]).await? else {
            return Err(StoreError::NotFound);
        };
        let (owner, token_hash) = (get_text(&found, "tenant")?, get_text(&found, "hash")?);
        if tenant.is_some_and(|tenant| tenant != owner) {
            return Err(StoreError::NotFound);
        }
        let session = self.find_portal_session(token_hash).await?.ok_or(StoreError::NotFound)?;
        let actions = session_keys(owner, id.as_str(), token_hash)
            .into_iter()
            .map(|key| {
                let delete = Delete::builder().table_name(&*self.table).set_key(Some(key)).build().expect("key set");
                TransactWriteItem::builder().delete(delete).build()
            })
            .collect();
        self.transact("TransactWriteItems", actions).await.map_err(backend)?;
        Ok(session)
    }

    async fn delete_portal_sessions(&self, tenant: &str) -> Result<usize, StoreError> {
        let request =
            self.prefix_query(tenant_partition(tenant), PORTAL_SESSION_SORT_PREFIX, None).consistent_read(true);
        let entries = self.query("Query", request, usize::MAX, |_| true).await?;
        let mut keys = Vec::with_capacity(entries.len() * 3);
        for entry in &entries {
            let id = get_text(entry, SORT_KEY)?.trim_start_matches(PORTAL_SESSION_SORT_PREFIX);
            // The token's item first: the session stops working before its other items go.
            keys.extend(session_keys(tenant, id, get_text(entry, "hash")?));
        }
        self.batch_delete(keys).await?;
        Ok(entries.len())
    }
}
