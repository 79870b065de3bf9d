//! The [`IdempotencyStore`] port on DynamoDB: one item per (tenant, key), taken with one
//! conditional PutItem (the old item comes back when the condition fails), expired by TTL.

use webhooks::idempotency::IdempotencyStore;
use webhooks::idempotency::{IDEMPOTENCY_LOCK, IDEMPOTENCY_TTL, KeptAnswer, KeyUse, Taken};

use super::*;

fn idempotency_key(tenant: &str, key: &str) -> Item {
    // Tenants hold no `#`, so the key after the tenant's `#` is the client's, whatever it holds.
    items::key(format!("IDEM#{tenant}#{key}"), "IDEM")
}

impl IdempotencyStore for DynamoStore {
    async fn take_key(&self, key_use: &KeyUse<'_>) -> Result<Taken, StoreError> {
        let now = key_use.now;
        let expires = now.plus(IDEMPOTENCY_TTL);
        let mut item = idempotency_key(key_use.tenant, key_use.key);
        item.extend([
            ("fp".to_owned(), text(key_use.fingerprint)),
            ("locked".to_owned(), number(now.plus(IDEMPOTENCY_LOCK).as_millis())),
            ("exp".to_owned(), number(expires.as_millis())),
            (TTL_ATTRIBUTE.to_owned(), number(expires.unix_seconds())),
        ]);
        let mut e = Expression::default();
        // Free when absent, expired (TTL deletes late), or held by a request out of its lock.
        let condition = format!(
            "attribute_not_exists({pk}) OR {exp} < {now} OR (attribute_not_exists({status}) AND {locked} < {now})",
            pk = e.name(PARTITION_KEY),
            exp = e.name("exp"),
            now = e.value("now", number(now.as_millis())),
            status = e.name("status"),
            locked = e.name("locked"),
        );
        let request = self
            .client
            .put_item()
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        Ok(match self.put(request).await? {
            Written::Done(_) => Taken::New,
            Written::ConditionFailed(None) => Taken::InProgress,
            Written::ConditionFailed(Some(old)) => {
                let status: Option<u16> = optional_number(&old, "status")?;
                match (status, optional_text(&old, "body")) {
                    _ if optional_text(&old, "fp") != Some(key_use.fingerprint) => Taken::Mismatch,
                    (Some(status), Some(body)) => Taken::Done(KeptAnswer { status, body: body.to_owned() }),
                    _ => Taken::InProgress,
                }
            }
        })
    }

    async fn keep_answer(&self, key_use: &KeyUse<'_>, answer: &KeptAnswer) -> Result<(), StoreError> {
        let expires = key_use.now.plus(IDEMPOTENCY_TTL);
        let mut e = Expression::default();
        let update = format!(
            "SET {} = {}, {} = {}, {} = {}, {} = {}",
            e.name("status"),
            e.value("status", number(answer.status)),
            e.name("body"),
            e.value("body", text(&answer.body)),
            e.name("exp"),
            e.value("exp", number(expires.as_millis())),
            e.name(TTL_ATTRIBUTE),
            e.value("ttl", number(expires.unix_seconds())),
        );
        let condition = format!("{} = {}", e.name("fp"), e.value("fp", text(key_use.fingerprint)));
        let request = self
            .client
            .update_item()
            .set_key(Some(idempotency_key(key_use.tenant, key_use.key)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        // A failed condition: the key was taken over meanwhile; its new holder decides.
        self.update(request).await.map(|_| ())
    }

    async fn release_key(&self, tenant: &str, key: &str) -> Result<(), StoreError> {
        let request = self.client.delete_item().set_key(Some(idempotency_key(tenant, key)));
        self.delete(request).await.map(|_| ())
    }
}
