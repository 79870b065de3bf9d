//! The [`StatsStore`] port on DynamoDB: one item per endpoint and hour, added to with an
//! atomic ADD (every sender environment adds to the same item), gone by TTL after
//! [`STATS_RETENTION`]. The sender writes once per endpoint per batch.

use super::items::{get_text, key, malformed, number, optional_number, text};
use super::schema::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, stats_partition, stats_sort_key};
use super::{DynamoStore, Expression, Written};
use webhooks::deliveries::stats::{DeliveryCounts, STATS_RETENTION, StatsStore};
use webhooks::ids::EndpointId;
use webhooks::ports::StoreError;
use webhooks::time::Timestamp;

impl StatsStore for DynamoStore {
    async fn add_delivery_counts(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        hour: Timestamp,
        counts: DeliveryCounts,
    ) -> Result<(), StoreError> {
        let mut e = Expression::default();
        let update = format!(
            "ADD {d} {delivered}, {r} {retrying}, {f} {failed} SET {expires} = {at}",
            d = e.name("delivered"),
            delivered = e.value("delivered", number(counts.delivered)),
            r = e.name("retrying"),
            retrying = e.value("retrying", number(counts.retrying)),
            f = e.name("failed"),
            failed = e.value("failed", number(counts.failed)),
            expires = e.name(TTL_ATTRIBUTE),
            at = e.value("at", number(hour.plus(STATS_RETENTION).unix_seconds() + 3600)),
        );
        let request = self
            .client
            .update_item()
            .set_key(Some(key(stats_partition(tenant, endpoint_id.as_str()), stats_sort_key(hour.as_millis()))))
            .update_expression(update)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        match self.update(request).await? {
            Written::Done(_) => Ok(()),
            Written::ConditionFailed(_) => Err(StoreError::Backend("an unconditional count failed a condition".into())),
        }
    }

    async fn delivery_counts(
        &self,
        tenant: &str,
        endpoint_id: &EndpointId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, DeliveryCounts)>, StoreError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let mut e = Expression::default();
        // BETWEEN is inclusive: `to` itself is dropped below.
        let condition = format!(
            "{} = {} AND {} BETWEEN {} AND {}",
            e.name(PARTITION_KEY),
            e.value("pk", text(stats_partition(tenant, endpoint_id.as_str()))),
            e.name(SORT_KEY),
            e.value("from", text(stats_sort_key(from.as_millis()))),
            e.value("to", text(stats_sort_key(to.as_millis()))),
        );
        let request = self
            .client
            .query()
            .table_name(&*self.table)
            .key_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        let items = self.query("Query", request, usize::MAX, |_| true).await?;
        let mut hours = Vec::with_capacity(items.len());
        for item in &items {
            let hour =
                get_text(item, SORT_KEY)?.parse().map(Timestamp::from_millis).map_err(|_| malformed(SORT_KEY))?;
            if hour >= to {
                continue;
            }
            let count = |name| Ok::<u64, StoreError>(optional_number(item, name)?.unwrap_or(0));
            let counts = DeliveryCounts {
                delivered: count("delivered")?,
                retrying: count("retrying")?,
                failed: count("failed")?,
            };
            hours.push((hour, counts));
        }
        Ok(hours)
    }
}
