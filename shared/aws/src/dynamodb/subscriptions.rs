//! The subscription index: one item per (tenant, pattern, endpoint), so that the dispatcher
//! finds an event's endpoints with one Query per matching pattern. An endpoint may hold
//! [`MAX_SUBSCRIPTIONS`](webhooks::endpoints::rules::MAX_SUBSCRIPTIONS) patterns, more than a
//! transaction can write, so the index is written beside the endpoint, not with it, in an
//! order that never loses a subscription:
//!
//! 1. the patterns an endpoint gains are put before the endpoint item is written;
//! 2. the endpoint item (the truth) is written with the subscriptions version, atomically;
//! 3. the patterns it lost are deleted after.
//!
//! A crash between steps leaves extra items, never missing ones, and an extra item is
//! harmless: `subscribed_endpoints` reads the endpoints it points at and keeps only those
//! whose own events match. Each item carries the endpoint version it was written for
//! (`ver`); a put never lowers it and a delete only removes an item older than the version
//! that dropped it, so a late cleanup cannot remove a pattern a newer write put back.

use super::*;

/// Index writes in flight at once for one endpoint.
const INDEX_WRITE_CONCURRENCY: usize = 16;

impl DynamoStore {
    /// Step 1: index `endpoint` (about to be written at `endpoint.version`) under `patterns`.
    pub(super) async fn add_subscriptions(&self, endpoint: &Endpoint, patterns: &[&str]) -> Result<(), StoreError> {
        let puts: Vec<_> = patterns
            .iter()
            .map(|pattern| {
                let mut item = subscription_key(&endpoint.tenant, pattern, endpoint.id.as_str());
                item.insert("ver".to_owned(), number(endpoint.version));
                let mut e = Expression::default();
                let condition = format!(
                    "attribute_not_exists({}) OR {} < {}",
                    e.name(PARTITION_KEY),
                    e.name("ver"),
                    e.value("ver", number(endpoint.version))
                );
                self.client
                    .put_item()
                    .set_item(Some(item))
                    .condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
            })
            .collect();
        // A failed condition: a newer write indexed it already.
        stream::iter(puts)
            .map(|request| self.put(request))
            .buffer_unordered(INDEX_WRITE_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await
            .map(|_| ())
    }

    /// Step 3: remove the index items of `patterns` that `endpoint` (written at
    /// `endpoint.version`) no longer holds, unless a newer write put them back.
    pub(super) async fn remove_subscriptions(&self, endpoint: &Endpoint, patterns: &[&str]) -> Result<(), StoreError> {
        let deletes: Vec<_> = patterns
            .iter()
            .map(|pattern| {
                let mut e = Expression::default();
                let condition = format!(
                    "attribute_not_exists({}) OR {} <= {}",
                    e.name("ver"),
                    e.name("ver"),
                    e.value("ver", number(endpoint.version))
                );
                self.client
                    .delete_item()
                    .set_key(Some(subscription_key(&endpoint.tenant, pattern, endpoint.id.as_str())))
                    .condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
            })
            .collect();
        stream::iter(deletes)
            .map(|request| self.delete(request))
            .buffer_unordered(INDEX_WRITE_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await
            .map(|_| ())
    }
}
