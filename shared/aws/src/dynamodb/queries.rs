//! Reading many items: expression placeholders, the "partition = X AND begins_with(sort
//! key, P)" condition most listings use, paging (LastEvaluatedKey never leaves the adapter),
//! the shards of a partition, and counting without reading items back.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Select};
use futures_util::future::try_join_all;

use super::items::{Item, text};
use super::schema::{PARTITION_KEY, SORT_KEY};
use super::{DynamoStore, backend, capacity, shards};
use webhooks::ports::StoreError;

/// Expression placeholders: `#name` for every attribute name, `:name` for every value.
#[derive(Default)]
pub(super) struct Expression {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    pub(super) fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    pub(super) fn value(&mut self, key: &str, value: AttributeValue) -> String {
        let placeholder = format!(":{key}");
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub(super) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

impl DynamoStore {
    /// A query of the table's items in `partition` whose sort key starts with `prefix`;
    /// with `projection`, of that attribute only. The caller adds the rest (consistency,
    /// limit, Select).
    pub(super) fn prefix_query(&self, partition: String, prefix: &str, projection: Option<&str>) -> QueryFluentBuilder {
        let mut e = Expression::default();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            e.name(PARTITION_KEY),
            e.value("pk", text(partition)),
            e.name(SORT_KEY),
            e.value("prefix", text(prefix))
        );
        let projection = projection.map(|attribute| e.name(attribute));
        self.client
            .query()
            .table_name(&*self.table)
            .key_condition_expression(condition)
            .set_projection_expression(projection)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
    }

    /// Runs `request`, whose key condition names its partition `:pk`, on every shard of
    /// `partition` at once ([`shards`]); answers each shard's items, up to `want` each.
    pub(super) async fn query_shards(
        &self,
        request: QueryFluentBuilder,
        partition: &str,
        want: usize,
    ) -> Result<Vec<Vec<Item>>, StoreError> {
        try_join_all(shards::all(partition, self.shards).into_iter().map(|pk| {
            let request = request.clone().expression_attribute_values(":pk", AttributeValue::S(pk));
            self.query("Query", request, want, |_| true)
        }))
        .await
    }

    /// Runs a query to the end or until `want` items passed `keep`, following
    /// LastEvaluatedKey internally; stops at the first item `keep` refuses.
    pub(super) async fn query(
        &self,
        operation: &'static str,
        request: QueryFluentBuilder,
        want: usize,
        keep: impl Fn(&Item) -> bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = request
                .clone()
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(backend)?;
            self.usage.record(operation, capacity(output.consumed_capacity()));
            for item in output.items.unwrap_or_default() {
                if !keep(&item) {
                    return Ok(found);
                }
                found.push(item);
                if found.len() >= want {
                    return Ok(found);
                }
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(found),
            }
        }
    }

    /// How many items `request` matches, up to `at_most` (a bound stops the paging early):
    /// counted by DynamoDB, so the items are read (and paid for) but not sent.
    pub(super) async fn count(&self, request: QueryFluentBuilder, at_most: usize) -> Result<usize, StoreError> {
        let request = request.select(Select::Count).return_consumed_capacity(ReturnConsumedCapacity::Total);
        let (mut counted, mut start) = (0, None);
        loop {
            let output = request.clone().set_exclusive_start_key(start.take()).send().await.map_err(backend)?;
            self.usage.record("Query", capacity(output.consumed_capacity()));
            counted += usize::try_from(output.count).unwrap_or(0);
            match output.last_evaluated_key {
                Some(key) if counted < at_most => start = Some(key),
                _ => return Ok(counted.min(at_most)),
            }
        }
    }
}
