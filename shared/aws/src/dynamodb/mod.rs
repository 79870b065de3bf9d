//! The [`Store`] port on DynamoDB: one table (see [`schema`]), conditional writes for every
//! contract that says Conflict, Query (never Scan) for every read path, and a request and
//! capacity count per operation ([`Usage`]).

pub mod schema;

mod items;
mod rate_counter;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConsumedCapacity, Delete, DeleteRequest, KeysAndAttributes, Put, ReturnConsumedCapacity,
    ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use futures_util::future::try_join_all;
use serde_json::value::RawValue;

pub use items::item_size;
use items::*;
use schema::*;

use super::usage::Usage;
use webhooks::filter::patterns_matching;
use webhooks::ids::{ApiKeyId, DeliveryId, EndpointId};
use webhooks::model::{ApiKey, Attempt, Delivery, DeliveryDetail, DeliveryStatus, Endpoint, Event};
use webhooks::pagination::into_page;
use webhooks::ports::{DeliveryQuery, EndpointQuery, EventRecord, FailureCount, Page, Store, StoreError};
use webhooks::time::Timestamp;

pub use webhooks::settings::DEFAULT_RETENTION;
/// BatchGetItem takes at most 100 keys, BatchWriteItem 25 requests.
const BATCH_GET_LIMIT: usize = 100;
const BATCH_WRITE_LIMIT: usize = 25;
/// Rounds of retrying unprocessed batch items before giving up with an error.
const BATCH_RETRIES: u32 = 8;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: Arc<str>,
    retention: Duration,
    usage: Usage,
}

fn backend<E: std::error::Error + 'static, R: std::fmt::Debug>(error: SdkError<E, R>) -> StoreError {
    StoreError::Backend(DisplayErrorContext(error).to_string())
}

fn capacity(consumed: Option<&ConsumedCapacity>) -> f64 {
    consumed.and_then(ConsumedCapacity::capacity_units).unwrap_or(0.0)
}

fn total_capacity(consumed: &[ConsumedCapacity]) -> f64 {
    consumed.iter().filter_map(ConsumedCapacity::capacity_units).sum()
}

/// Expression placeholders: `#name` for every attribute name, `:name` for every value.
#[derive(Default)]
struct Expression {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    fn value(&mut self, key: &str, value: AttributeValue) -> String {
        let placeholder = format!(":{key}");
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
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

/// Whether a cancelled transaction failed on its first action's condition.
fn first_condition_failed(error: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> bool {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .first()
            .is_some_and(|reason| reason.code() == Some("ConditionalCheckFailed")),
        _ => false,
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<Arc<str>>, retention: Duration) -> Self {
        Self { client, table: table.into(), retention, usage: Usage::default() }
    }

    /// Requests and capacity by operation, since start or the last reset.
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    fn expires_at(&self, now: Timestamp) -> AttributeValue {
        number(now.plus(self.retention).as_millis() / 1000)
    }

    fn subscription_put(&self, endpoint: &Endpoint, pattern: &str) -> TransactWriteItem {
        let item = subscription_key(&endpoint.tenant, pattern, endpoint.id.as_str());
        let put = Put::builder().table_name(&*self.table).set_item(Some(item)).build().expect("table and item set");
        TransactWriteItem::builder().put(put).build()
    }

    fn subscription_delete(&self, endpoint: &Endpoint, pattern: &str) -> TransactWriteItem {
        let key = subscription_key(&endpoint.tenant, pattern, endpoint.id.as_str());
        let delete = Delete::builder().table_name(&*self.table).set_key(Some(key)).build().expect("table and key set");
        TransactWriteItem::builder().delete(delete).build()
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
    fn written<O, E: ConditionFailure + std::error::Error + 'static>(
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

    /// Runs a query to the end or until `want` items passed `keep`, following
    /// LastEvaluatedKey internally (it never leaves the adapter).
    async fn query(
        &self,
        operation: &'static str,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
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

    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET_LIMIT) {
            let mut pending =
                Some(KeysAndAttributes::builder().set_keys(Some(chunk.to_vec())).build().expect("keys set"));
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
                self.usage
                    .record("BatchGetItem", total_capacity(output.consumed_capacity.as_deref().unwrap_or_default()));
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
                update.push_str(&format!(
                    " SET {enabled} = {no}, {} = {}",
                    e.name("reason"),
                    e.value("why", text(reason))
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

impl Store for DynamoStore {
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
        let patterns: BTreeSet<&str> = endpoint.events.iter().map(String::as_str).collect();
        let actions = std::iter::once(TransactWriteItem::builder().put(put).build())
            .chain(patterns.into_iter().map(|pattern| self.subscription_put(endpoint, pattern)))
            .chain([self.subscriptions_version_bump(&endpoint.tenant)])
            .collect();
        match self.transact("TransactWriteItems", actions).await {
            Ok(()) => Ok(()),
            Err(error) if first_condition_failed(&error) => {
                Err(StoreError::Conflict("an endpoint with this id exists".into()))
            }
            Err(error) => Err(backend(error)),
        }
    }

    async fn get_endpoint(&self, tenant: &str, id: &EndpointId) -> Result<Endpoint, StoreError> {
        let item = self.get_item("GetItem", endpoint_key(tenant, id.as_str()), true, &[]).await?;
        endpoint_from_item(tenant, &item.ok_or(StoreError::NotFound)?)
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
        let actions = std::iter::once(TransactWriteItem::builder().put(put).build())
            .chain(before.difference(&after).map(|pattern| self.subscription_delete(&updated, pattern)))
            .chain(after.difference(&before).map(|pattern| self.subscription_put(&updated, pattern)))
            .chain([self.subscriptions_version_bump(&updated.tenant)])
            .collect();
        match self.transact("TransactWriteItems", actions).await {
            Ok(()) => Ok(updated),
            Err(error) if first_condition_failed(&error) => {
                // Gone since the read, or written by someone else.
                self.get_endpoint(&endpoint.tenant, &endpoint.id).await?;
                Err(StoreError::Conflict("the endpoint changed since it was read".into()))
            }
            Err(error) => Err(backend(error)),
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
        let patterns: BTreeSet<&str> = endpoint.events.iter().map(String::as_str).collect();
        let subscriptions =
            patterns.into_iter().map(|pattern| subscription_key(tenant, pattern, id.as_str())).collect();
        self.batch_delete(subscriptions).await?;
        self.delete_deliveries(tenant, id.as_str()).await
    }

    async fn subscribed_endpoints(&self, tenant: &str, event_type: &str) -> Result<Vec<Endpoint>, StoreError> {
        let lookups = patterns_matching(event_type).into_iter().map(|pattern| {
            let mut e = Expression::default();
            let condition = format!(
                "{} = {} AND begins_with({}, {})",
                e.name(PARTITION_KEY),
                e.value("pk", text(tenant_partition(tenant))),
                e.name(SORT_KEY),
                e.value("prefix", text(subscription_prefix(&pattern)))
            );
            let request = self
                .client
                .query()
                .table_name(&*self.table)
                .key_condition_expression(condition)
                .projection_expression(e.name(SORT_KEY))
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values());
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

    async fn record_event(&self, event: &Event, message_id: &str) -> Result<EventRecord, StoreError> {
        let mut item = event_key(&event.tenant, &event.id);
        item.extend([
            ("type".to_owned(), text(&event.event_type)),
            ("payload".to_owned(), text(event.payload.get())),
            ("msg".to_owned(), text(message_id)),
            ("created".to_owned(), number(event.created_at.as_millis())),
            (TTL_ATTRIBUTE.to_owned(), self.expires_at(event.created_at)),
        ]);
        if let Some(entity) = &event.entity_id {
            item.insert("entity".to_owned(), text(serde_json::to_string(entity).expect("entity ids serialize")));
        }
        let mut e = Expression::default();
        let condition = format!("attribute_not_exists({})", e.name(PARTITION_KEY));
        let request = self
            .client
            .put_item()
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        Ok(match self.put(request).await? {
            Written::Done(_) => EventRecord::New,
            Written::ConditionFailed(first) => {
                let first_message = first.as_ref().and_then(|item| optional_text(item, "msg"));
                if first_message == Some(message_id) { EventRecord::SameMessage } else { EventRecord::Duplicate }
            }
        })
    }

    async fn event_payload(&self, tenant: &str, event_id: &str) -> Result<Option<Box<RawValue>>, StoreError> {
        // Consistent: the dispatcher wrote the event a moment before the delivery's message.
        let event = self.get_item("GetItem", event_key(tenant, event_id), true, &["payload"]).await?;
        let Some(text) = event.as_ref().and_then(|event| optional_text(event, "payload")) else { return Ok(None) };
        RawValue::from_string(text.to_owned()).map(Some).map_err(|_| malformed("payload"))
    }

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
        set(&mut e, LISTING_PARTITION_KEY, Some(text(delivery_log_partition(&delivery.tenant))));
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
            "{status} = {failed} AND {n} = {attempts}",
            status = e.name("status"),
            failed = e.value("failed", text(DeliveryStatus::Failed.as_str())),
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
        let payload = event
            .as_ref()
            .and_then(|event| optional_text(event, "payload"))
            .and_then(|text| RawValue::from_string(text.to_owned()).ok());
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

    async fn list_deliveries(&self, tenant: &str, query: &DeliveryQuery) -> Result<Page<Delivery>, StoreError> {
        let mut e = Expression::default();
        let (index, partition, sort, partition_value) = match &query.endpoint_id {
            Some(endpoint_id) => (None, PARTITION_KEY, SORT_KEY, delivery_partition(tenant, endpoint_id.as_str())),
            None => (Some(LISTING_INDEX), LISTING_PARTITION_KEY, LISTING_SORT_KEY, delivery_log_partition(tenant)),
        };
        let mut condition = format!("{} = {}", e.name(partition), e.value("pk", text(partition_value)));
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
        let items = self.query("Query", request, query.limit + 1, |_| true).await?;
        let deliveries = items.iter().map(|item| delivery_from_item(tenant, item)).collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(deliveries, query.limit, |delivery| delivery.id.as_str()))
    }

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
