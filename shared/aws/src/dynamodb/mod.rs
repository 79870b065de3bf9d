//! The [`Store`] port on DynamoDB: one table (see [`schema`]), conditional writes for every
//! contract that says Conflict, Query (never Scan) for every read path, and a request and
//! capacity count per operation ([`Usage`]).

pub mod schema;

mod api_keys;
mod deliveries;
mod endpoint_uids;
mod endpoints;
mod event_types;
mod events;
mod idempotency;
mod portal_sessions;

mod items;
mod payloads;
mod queries;
mod rate_counter;
pub mod shards;
mod stats;
mod subscriptions;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, DeleteRequest, KeysAndAttributes, Put, ReturnConsumedCapacity, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use futures_util::future::try_join_all;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::value::RawValue;

pub use items::item_size;
use items::*;
use queries::Expression;
use schema::*;

use super::usage::Usage;
use webhooks::deliveries::store::{DeliveryQuery, DeliveryStore};
use webhooks::deliveries::{Attempt, Delivery, DeliveryDetail, DeliveryStatus};
use webhooks::endpoints::Endpoint;
use webhooks::endpoints::store::{EndpointQuery, EndpointStore, FailureCount};
use webhooks::events::Event;
use webhooks::events::patterns::{pattern_matches, patterns_matching};
use webhooks::events::store::{EventQuery, EventRecord, EventStore, EventSummary};
use webhooks::ids::{ApiKeyId, DeliveryId, EndpointId};
use webhooks::pagination::event_page;
use webhooks::pagination::into_page;
use webhooks::ports::{BackendError, Page, StoreError};
use webhooks::security::api_keys::ApiKey;
use webhooks::security::api_keys::ApiKeyStore;
use webhooks::time::Timestamp;

pub use webhooks::settings::DEFAULT_RETENTION;
/// BatchGetItem takes at most 100 keys, BatchWriteItem 25 requests.
const BATCH_GET_LIMIT: usize = 100;
const BATCH_WRITE_LIMIT: usize = 25;
/// BatchGetItem requests one read has in flight at once.
const BATCH_GETS_AT_ONCE: usize = 10;
/// Rounds of retrying unprocessed batch items before giving up with an error.
const BATCH_RETRIES: u32 = 8;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: Arc<str>,
    retention: Duration,
    usage: Usage,
    /// The partitions of each tenant's event log and delivery listing ([`shards`]).
    shards: u16,
}

fn backend<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Backend(BackendError::caused_by("DynamoDB", error))
}

fn capacity(consumed: Option<&ConsumedCapacity>) -> f64 {
    consumed.and_then(ConsumedCapacity::capacity_units).unwrap_or(0.0)
}

fn total_capacity(consumed: &[ConsumedCapacity]) -> f64 {
    consumed.iter().filter_map(ConsumedCapacity::capacity_units).sum()
}

/// What a single-item write came to.
enum Written {
    /// Done; the attributes the request asked back (ReturnValues), empty if none.
    Done(Item),
    /// Its condition failed; the item as it was, if the request asked for it and it exists.
    ConditionFailed(Option<Item>),
}

/// The old item of a failed condition, if `error` is one.
trait ConditionFailure {
    fn condition_failed(&self) -> Option<Option<&Item>>;
}

impl ConditionFailure for PutItemError {
    fn condition_failed(&self) -> Option<Option<&Item>> {
        match self {
            PutItemError::ConditionalCheckFailedException(failed) => Some(failed.item()),
            _ => None,
        }
    }
}

impl ConditionFailure for UpdateItemError {
    fn condition_failed(&self) -> Option<Option<&Item>> {
        match self {
            UpdateItemError::ConditionalCheckFailedException(failed) => Some(failed.item()),
            _ => None,
        }
    }
}

impl ConditionFailure for DeleteItemError {
    fn condition_failed(&self) -> Option<Option<&Item>> {
        match self {
            DeleteItemError::ConditionalCheckFailedException(failed) => Some(failed.item()),
            _ => None,
        }
    }
}

/// Waits before each look-up of a key through the eventually consistent listing index.
const INDEX_LAG_WAITS: [Duration; 4] =
    [Duration::ZERO, Duration::from_millis(200), Duration::from_millis(400), Duration::from_millis(800)];

impl DynamoStore {
    /// The table key of the API key `id`, through the listing index.
    async fn api_key_by_id(&self, id: &ApiKeyId) -> Result<Option<Item>, StoreError> {
        let mut e = Expression::default();
        let condition = format!("{} = {}", e.name(LISTING_PARTITION_KEY), e.value("pk", text(API_KEY_LISTING)));
        let request = self
            .client
            .query()
            .table_name(&*self.table)
            .index_name(LISTING_INDEX)
            .key_condition_expression(condition)
            .filter_expression(format!("{} = {}", e.name("id"), e.value("id", text(id.as_str()))))
            .projection_expression(format!("{}, {}", e.name(PARTITION_KEY), e.name(SORT_KEY)))
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values());
        Ok(self.query("Query", request, 1, |_| true).await?.into_iter().next())
    }
}

/// Whether a cancelled transaction failed on the condition of its action at `index`.
fn condition_failed_at(error: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>, index: usize) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .get(index)
            .is_some_and(|reason| reason.code() == Some("ConditionalCheckFailed")),
        _ => false,
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<Arc<str>>, retention: Duration) -> Self {
        Self { client, table: table.into(), retention, usage: Usage::default(), shards: 1 }
    }

    /// The same store spreading each tenant's event log and delivery listing over `shards`
    /// partitions ([`shards`]).
    pub fn with_shards(mut self, shards: u16) -> Self {
        self.shards = shards.max(1);
        self
    }

    /// Requests and capacity by operation, since start or the last reset.
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    fn expires_at(&self, now: Timestamp) -> AttributeValue {
        number(now.plus(self.retention).as_millis() / 1000)
    }

    /// The transaction action that moves the tenant's subscriptions version on.
    fn subscriptions_version_bump(&self, tenant: &str) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&*self.table)
            .set_key(Some(subscriptions_version_key(tenant)))
            .update_expression("ADD #ver :one")
            .expression_attribute_names("#ver", "ver")
            .expression_attribute_values(":one", number(1))
            .build()
            .expect("table, key and expression set");
        TransactWriteItem::builder().update(update).build()
    }

    /// The same, on its own (after a delete or an auto-disable).
    async fn bump_subscriptions_version(&self, tenant: &str) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .set_key(Some(subscriptions_version_key(tenant)))
            .update_expression("ADD #ver :one")
            .expression_attribute_names("#ver", "ver")
            .expression_attribute_values(":one", number(1));
        self.update(request).await.map(|_| ())
    }

    /// Counts a single-item write and tells a failed condition from a backend error.
    fn written<O, E: ConditionFailure + std::error::Error + Send + Sync + 'static>(
        &self,
        operation: &'static str,
        result: Result<O, SdkError<E, HttpResponse>>,
        consumed: impl Fn(&O) -> Option<&ConsumedCapacity>,
        attributes: impl FnOnce(O) -> Option<Item>,
    ) -> Result<Written, StoreError> {
        match result {
            Ok(output) => {
                self.usage.record(operation, capacity(consumed(&output)));
                Ok(Written::Done(attributes(output).unwrap_or_default()))
            }
            Err(error) => {
                self.usage.record(operation, 0.0);
                match error.as_service_error().and_then(ConditionFailure::condition_failed) {
                    Some(old) => Ok(Written::ConditionFailed(old.filter(|item| !item.is_empty()).cloned())),
                    None => Err(backend(error)),
                }
            }
        }
    }

    async fn put(&self, request: PutItemFluentBuilder) -> Result<Written, StoreError> {
        let request = request.table_name(&*self.table).return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.written("PutItem", request.send().await, |o| o.consumed_capacity(), |o| o.attributes)
    }

    async fn update(&self, request: UpdateItemFluentBuilder) -> Result<Written, StoreError> {
        let request = request.table_name(&*self.table).return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.written("UpdateItem", request.send().await, |o| o.consumed_capacity(), |o| o.attributes)
    }

    async fn delete(&self, request: DeleteItemFluentBuilder) -> Result<Written, StoreError> {
        let request = request.table_name(&*self.table).return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.written("DeleteItem", request.send().await, |o| o.consumed_capacity(), |o| o.attributes)
    }

    async fn transact(
        &self,
        operation: &'static str,
        actions: Vec<TransactWriteItem>,
    ) -> Result<(), SdkError<TransactWriteItemsError, HttpResponse>> {
        let output = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match &output {
            Ok(output) => self.usage.record(operation, total_capacity(output.consumed_capacity())),
            Err(_) => self.usage.record(operation, 0.0),
        }
        output.map(|_| ())
    }

    /// Reads one item; `attributes` narrows what is read (all when empty).
    async fn get_item(
        &self,
        operation: &'static str,
        key: Item,
        consistent: bool,
        attributes: &[&str],
    ) -> Result<Option<Item>, StoreError> {
        let mut e = Expression::default();
        let projection = attributes.iter().map(|name| e.name(name)).collect::<Vec<_>>().join(", ");
        let output = self
            .client
            .get_item()
            .table_name(&*self.table)
            .set_key(Some(key))
            .consistent_read(consistent)
            .set_projection_expression((!projection.is_empty()).then_some(projection))
            .set_expression_attribute_names(e.names())
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(backend)?;
        self.usage.record(operation, capacity(output.consumed_capacity()));
        Ok(output.item)
    }

    /// The items of `keys` that exist, in any order: requests of 100 keys, several at once
    /// (a tenant's 10,000 endpoints are a hundred requests).
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let chunks: Vec<Vec<Item>> = keys.chunks(BATCH_GET_LIMIT).map(<[Item]>::to_vec).collect();
        let mut gets =
            stream::iter(chunks).map(|chunk| self.batch_get_chunk(chunk)).buffer_unordered(BATCH_GETS_AT_ONCE);
        let mut found = Vec::new();
        while let Some(items) = gets.next().await {
            found.extend(items?);
        }
        Ok(found)
    }

    async fn batch_get_chunk(&self, chunk: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut pending = Some(KeysAndAttributes::builder().set_keys(Some(chunk)).build().expect("keys set"));
        let mut round = 0;
        while let Some(request) = pending.take() {
            let output = self
                .client
                .batch_get_item()
                .request_items(&*self.table, request)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(backend)?;
            let items = output.responses.and_then(|mut tables| tables.remove(&*self.table)).unwrap_or_default();
            self.usage.record("BatchGetItem", total_capacity(output.consumed_capacity.as_deref().unwrap_or_default()));
            found.extend(items);
            pending = output
                .unprocessed_keys
                .and_then(|mut tables| tables.remove(&*self.table))
                .filter(|rest| !rest.keys().is_empty());
            round += 1;
            if pending.is_some() {
                if round > BATCH_RETRIES {
                    return Err(StoreError::Backend("BatchGetItem kept leaving keys unprocessed".into()));
                }
                tokio::time::sleep(Duration::from_millis(25 << round.min(6))).await;
            }
        }
        Ok(found)
    }

    async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        for chunk in keys.chunks(BATCH_WRITE_LIMIT) {
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|key| {
                    let delete = DeleteRequest::builder().set_key(Some(key.clone())).build().expect("key set");
                    WriteRequest::builder().delete_request(delete).build()
                })
                .collect();
            let mut round = 0;
            while !pending.is_empty() {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&*self.table, std::mem::take(&mut pending))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(backend)?;
                self.usage
                    .record("BatchWriteItem", total_capacity(output.consumed_capacity.as_deref().unwrap_or_default()));
                pending =
                    output.unprocessed_items.and_then(|mut tables| tables.remove(&*self.table)).unwrap_or_default();
                round += 1;
                if !pending.is_empty() {
                    if round > BATCH_RETRIES {
                        return Err(StoreError::Backend("BatchWriteItem kept leaving items unprocessed".into()));
                    }
                    tokio::time::sleep(Duration::from_millis(25 << round.min(6))).await;
                }
            }
        }
        Ok(())
    }

    /// Deletes the delivery history of one endpoint, page by page.
    async fn delete_deliveries(&self, tenant: &str, endpoint_id: &str) -> Result<(), StoreError> {
        loop {
            let mut e = Expression::default();
            let condition =
                format!("{} = {}", e.name(PARTITION_KEY), e.value("pk", text(delivery_partition(tenant, endpoint_id))));
            let request = self
                .client
                .query()
                .table_name(&*self.table)
                .key_condition_expression(condition)
                .projection_expression(format!("{}, {}", e.name(PARTITION_KEY), e.name(SORT_KEY)))
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .limit(BATCH_GET_LIMIT as i32);
            let keys = self.query("Query", request, BATCH_GET_LIMIT, |_| true).await?;
            if keys.is_empty() {
                return Ok(());
            }
            self.batch_delete(keys).await?;
        }
    }

    /// One step of [`Store::record_failure`]. Without `disable_with`, counts the failure
    /// unless it is the one that must disable the endpoint; with it, counts the failure and
    /// disables the endpoint, if it is still enabled at the threshold. `Ok(None)`: the
    /// condition did not hold, so the other step applies.
    async fn count_failure(
        &self,
        tenant: &str,
        id: &EndpointId,
        disable_after: u32,
        disable_with: Option<&str>,
    ) -> Result<Option<u32>, StoreError> {
        let mut e = Expression::default();
        let (failures, enabled) = (e.name("failures"), e.name("enabled"));
        let last = e.value("last", number(disable_after.saturating_sub(1)));
        let no = e.value("no", AttributeValue::Bool(false));
        let mut update =
            format!("ADD {failures} {one}, {ver} {one}", ver = e.name("ver"), one = e.value("one", number(1)));
        let condition = match disable_with {
            None => {
                format!("attribute_exists({}) AND ({enabled} = {no} OR {failures} < {last})", e.name(PARTITION_KEY))
            }
            Some(reason) => {
                // Into the disabled endpoints' listing, as `endpoint_item` puts a disabled one.
                update.push_str(&format!(
                    " SET {enabled} = {no}, {} = {}, {} = {}, {} = {}",
                    e.name("reason"),
                    e.value("why", text(reason)),
                    e.name(LISTING_PARTITION_KEY),
                    e.value("list_pk", text(DISABLED_ENDPOINTS_LISTING)),
                    e.name(LISTING_SORT_KEY),
                    e.value("list_sk", text(disabled_endpoint_listing_key(tenant, id.as_str()))),
                ));
                format!("{enabled} = {} AND {failures} >= {last}", e.value("yes", AttributeValue::Bool(true)))
            }
        };
        let request = self
            .client
            .update_item()
            .set_key(Some(endpoint_key(tenant, id.as_str())))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match self.update(request).await? {
            Written::Done(attributes) => Ok(Some(get_number(&attributes, "failures")?)),
            Written::ConditionFailed(Some(_)) => Ok(None),
            Written::ConditionFailed(None) => Err(StoreError::NotFound),
        }
    }
}

/// Attempts at counting a failure before reporting a conflict (only concurrent resets and
/// re-enables make it go round).
const FAILURE_COUNT_ROUNDS: usize = 8;
