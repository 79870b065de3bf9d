//! The AWS resources the service runs on, defined once. `webhooks serve --aws --provision`
//! creates what is missing from these definitions, and `tests/tests/template.rs` holds the
//! SAM template (`template.yaml`) to what that creates, resource by resource.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::dynamodb::schema::*;
use webhooks::deliveries::retry::DeliveryPolicy;
pub use webhooks::queues::definitions::*;

/// Every resource, by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub table: String,
    pub queues: Queues,
}

impl Deployment {
    /// The table `{prefix}` and the queues `{prefix}-...`.
    pub fn named(prefix: &str, policy: &DeliveryPolicy) -> Self {
        Self { table: prefix.to_owned(), queues: Queues::named(Some(prefix), policy) }
    }
}

/// Where the provisioned resources are.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub table: String,
    pub events_url: String,
    pub events_dlq_url: String,
    pub deliveries_url: String,
    pub deliveries_dlq_url: String,
    pub slow_deliveries_url: String,
}

#[derive(Debug, thiserror::Error)]
#[error("provisioning {resource}: {message}")]
pub struct ProvisionError {
    resource: String,
    message: String,
}

fn failed(resource: &str, error: impl std::error::Error + 'static) -> ProvisionError {
    ProvisionError {
        resource: resource.to_owned(),
        message: aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string(),
    }
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(key_type).build().expect("name and type set")
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type set")
}

/// Creates the table, its index and TTL, unless a table of that name exists.
pub async fn provision_table(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), ProvisionError> {
    if client.describe_table().table_name(table).send().await.is_ok() {
        return Ok(());
    }
    let listing = GlobalSecondaryIndex::builder()
        .index_name(LISTING_INDEX)
        .key_schema(key(LISTING_PARTITION_KEY, KeyType::Hash))
        .key_schema(key(LISTING_SORT_KEY, KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("index fields set");
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(PARTITION_KEY))
        .attribute_definitions(string_attribute(SORT_KEY))
        .attribute_definitions(string_attribute(LISTING_PARTITION_KEY))
        .attribute_definitions(string_attribute(LISTING_SORT_KEY))
        .key_schema(key(PARTITION_KEY, KeyType::Hash))
        .key_schema(key(SORT_KEY, KeyType::Range))
        .global_secondary_indexes(listing)
        .send()
        .await
        .map_err(|e| failed(table, e))?;
    for _ in 0..120 {
        let described = client.describe_table().table_name(table).send().await.map_err(|e| failed(table, e))?;
        let status = described.table.and_then(|t| t.table_status);
        if status == Some(aws_sdk_dynamodb::types::TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let ttl = TimeToLiveSpecification::builder().attribute_name(TTL_ATTRIBUTE).enabled(true).build().expect("set");
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| failed(table, e))?;
    Ok(())
}

/// The queue's URL, creating it first if it does not exist. Its dead-letter queue, if it
/// has one, must exist already.
pub async fn provision_queue(client: &aws_sdk_sqs::Client, queue: &QueueDefinition) -> Result<String, ProvisionError> {
    if let Some(url) = queue_url(client, &queue.name).await {
        return Ok(url);
    }
    let mut request = client
        .create_queue()
        .queue_name(&queue.name)
        .attributes(QueueAttributeName::VisibilityTimeout, queue.visibility_timeout.as_secs().to_string())
        .attributes(QueueAttributeName::MessageRetentionPeriod, queue.retention.as_secs().to_string())
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true");
    if let Some((dead_letters, max_receives)) = &queue.redrive {
        let url = queue_url(client, dead_letters).await.ok_or_else(|| ProvisionError {
            resource: queue.name.clone(),
            message: format!("its dead-letter queue {dead_letters} does not exist"),
        })?;
        let arn = queue_arn(client, &url).await?;
        let policy = serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": max_receives});
        request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    let created = request.send().await.map_err(|e| failed(&queue.name, e))?;
    created.queue_url.ok_or_else(|| ProvisionError { resource: queue.name.clone(), message: "no queue URL".into() })
}

async fn queue_url(client: &aws_sdk_sqs::Client, name: &str) -> Option<String> {
    client.get_queue_url().queue_name(name).send().await.ok().and_then(|found| found.queue_url)
}

async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> Result<String, ProvisionError> {
    let attributes = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failed(url, e))?;
    attributes
        .attributes
        .and_then(|mut all| all.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| ProvisionError { resource: url.to_owned(), message: "no queue ARN".into() })
}

/// Creates whatever of `deployment` is missing; what exists is left as it is.
pub async fn provision(
    dynamodb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    deployment: &Deployment,
) -> Result<Provisioned, ProvisionError> {
    provision_table(dynamodb, &deployment.table).await?;
    let events_dlq_url = provision_queue(sqs, &deployment.queues.events_dlq).await?;
    let events_url = provision_queue(sqs, &deployment.queues.events).await?;
    let deliveries_dlq_url = provision_queue(sqs, &deployment.queues.deliveries_dlq).await?;
    let deliveries_url = provision_queue(sqs, &deployment.queues.deliveries).await?;
    let slow_deliveries_url = provision_queue(sqs, &deployment.queues.slow_deliveries).await?;
    Ok(Provisioned {
        table: deployment.table.clone(),
        events_url,
        events_dlq_url,
        deliveries_url,
        deliveries_dlq_url,
        slow_deliveries_url,
    })
}

/// Where the resources of `deployment` are; an error names the first one missing.
pub async fn find(
    dynamodb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    deployment: &Deployment,
) -> Result<Provisioned, ProvisionError> {
    dynamodb.describe_table().table_name(&deployment.table).send().await.map_err(|e| failed(&deployment.table, e))?;
    let url = async |queue: &QueueDefinition| {
        queue_url(sqs, &queue.name)
            .await
            .ok_or_else(|| ProvisionError { resource: queue.name.clone(), message: "does not exist".into() })
    };
    Ok(Provisioned {
        table: deployment.table.clone(),
        events_url: url(&deployment.queues.events).await?,
        events_dlq_url: url(&deployment.queues.events_dlq).await?,
        deliveries_url: url(&deployment.queues.deliveries).await?,
        deliveries_dlq_url: url(&deployment.queues.deliveries_dlq).await?,
        slow_deliveries_url: url(&deployment.queues.slow_deliveries).await?,
    })
}
