//! The uid index: DynamoDB keeps nothing unique but keys, so a uid an endpoint holds is a key
//! of its own, `T#{tenant}` / `UID#{uid}`, naming the endpoint (`id`). It is put in the same
//! transaction as the endpoint item that takes the uid, on condition that no item claims it.
//!
//! A uid is given up (its endpoint deleted, or renamed) by deleting its item after the
//! endpoint write. A crash in between leaves an item naming an endpoint that no longer holds
//! the uid, which does no harm: a lookup checks that the endpoint holds it, and a claim that
//! finds such an item takes it over, on condition that it still names the same endpoint.

use super::*;

/// Claims of one write that may find a stale item and take it over before it gives up.
const UID_CLAIM_ROUNDS: usize = 4;

impl DynamoStore {
    /// Writes `endpoint` by the transaction `actions()` (its own put first) and, if `claim`,
    /// with the claim of its uid. `Ok(false)` if the endpoint put's condition failed; `Taken`
    /// if another endpoint holds the uid.
    pub(super) async fn write_endpoint(
        &self,
        endpoint: &Endpoint,
        claim: bool,
        actions: impl Fn() -> Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        let uid = endpoint.uid.as_deref().filter(|_| claim);
        let mut stale = None;
        for _ in 0..UID_CLAIM_ROUNDS {
            let mut all = actions();
            let claim_at = all.len();
            if let Some(uid) = uid {
                all.push(self.uid_claim(&endpoint.tenant, uid, endpoint.id.as_str(), stale.as_deref()));
            }
            match self.transact("TransactWriteItems", all).await {
                Ok(()) => return Ok(true),
                Err(error) if condition_failed_at(&error, 0) => return Ok(false),
                Err(error) => match uid {
                    Some(uid) if condition_failed_at(&error, claim_at) => {
                        stale = self.stale_uid_holder(&endpoint.tenant, uid).await?;
                    }
                    _ => return Err(backend(error)),
                },
            }
        }
        Err(StoreError::Conflict("the uid kept changing hands".into()))
    }

    /// The action that makes `id` the holder of `uid`: if no item claims it, or if its item
    /// still names `stale` (an endpoint found not to hold it).
    fn uid_claim(&self, tenant: &str, uid: &str, id: &str, stale: Option<&str>) -> TransactWriteItem {
        let mut item = uid_key(tenant, uid);
        item.insert("id".to_owned(), text(id));
        let mut e = Expression::default();
        let condition = match stale {
            None => format!("attribute_not_exists({})", e.name(PARTITION_KEY)),
            Some(stale) => format!("{} = {}", e.name("id"), e.value("stale", text(stale))),
        };
        let put = Put::builder()
            .table_name(&*self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .build()
            .expect("table and item set");
        TransactWriteItem::builder().put(put).build()
    }

    /// After a claim of `uid` failed: the endpoint its item names, if that endpoint no longer
    /// holds it; `None` if the item is gone; `Taken` if the endpoint holds it.
    async fn stale_uid_holder(&self, tenant: &str, uid: &str) -> Result<Option<String>, StoreError> {
        match self.uid_item(tenant, uid).await? {
            None => Ok(None),
            Some((_, Some(_))) => Err(StoreError::Taken(format!("an endpoint with uid {uid:?} exists"))),
            Some((named, None)) => Ok(Some(named.as_str().to_owned())),
        }
    }

    /// The endpoint `uid`'s item names and, if that endpoint still holds the uid, the
    /// endpoint; `None` if there is no such item.
    async fn uid_item(&self, tenant: &str, uid: &str) -> Result<Option<(EndpointId, Option<Endpoint>)>, StoreError> {
        let Some(item) = self.get_item("GetItem", uid_key(tenant, uid), true, &["id"]).await? else {
            return Ok(None);
        };
        let named = EndpointId::parse(get_text(&item, "id")?).ok_or_else(|| malformed("id"))?;
        let holder = match self.get_endpoint(tenant, &named).await {
            Ok(endpoint) => Some(endpoint).filter(|endpoint| endpoint.uid.as_deref() == Some(uid)),
            Err(StoreError::NotFound) => None,
            Err(error) => return Err(error),
        };
        Ok(Some((named, holder)))
    }

    /// Frees `uid` after endpoint `id` gave it up, unless another endpoint claimed it since.
    pub(super) async fn release_uid(&self, tenant: &str, uid: &str, id: &str) -> Result<(), StoreError> {
        let mut e = Expression::default();
        let condition = format!("{} = {}", e.name("id"), e.value("id", text(id)));
        let request = self
            .client
            .delete_item()
            .set_key(Some(uid_key(tenant, uid)))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        self.delete(request).await.map(|_| ())
    }

    /// The endpoint of `tenant` that holds `uid`: the one its item names, if it still does.
    pub(super) async fn endpoint_by_uid(&self, tenant: &str, uid: &str) -> Result<Endpoint, StoreError> {
        self.uid_item(tenant, uid).await?.and_then(|(_, holder)| holder).ok_or(StoreError::NotFound)
    }
}
