//! `serve --aws` and `admin-key --aws`: the same service and key minting over DynamoDB and
//! SQS (AWS, or an emulator at AWS_ENDPOINT_URL). Compiled with the `aws` feature only.

use std::time::Duration;

use webhooks::ports::ErrorChain;

use webhooks_aws::deployment::{Deployment, find, provision};
use webhooks_aws::dynamodb::{DEFAULT_RETENTION, DynamoStore};
use webhooks_aws::{AwsBackend, AwsPorts, AwsSettings, load_sdk_config};
use webhooks_http::ReqwestSender;

use crate::admin_key::mint_admin_key;
use crate::serve::{Backend, Pipeline, Running, ServeConfig, run_pipeline};

#[derive(Clone, Debug)]
pub struct AwsServe {
    /// The table is named `{prefix}`, the queues `{prefix}-events`, `{prefix}-deliveries` and
    /// their `-dlq`s.
    pub prefix: String,
    /// Create whatever is missing first, as the deployment defines it.
    pub provision: bool,
}

/// Starts everything on DynamoDB and SQS and returns once the API listens.
pub async fn start_aws(config: ServeConfig, aws: AwsServe) -> Result<Running, String> {
    let sdk = load_sdk_config().await;
    let deployment = Deployment::named(&aws.prefix, &config.settings.policy);
    let (dynamodb, sqs) = (aws_sdk_dynamodb::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
    let resources = if aws.provision {
        provision(&dynamodb, &sqs, &deployment).await.map_err(|e| ErrorChain(&e).to_string())?
    } else {
        find(&dynamodb, &sqs, &deployment).await.map_err(|e| format!("{e} (add --provision to create it)"))?
    };
    let settings = AwsSettings {
        table: resources.table.clone(),
        events_queue_url: resources.events_url.clone(),
        events_dlq_url: resources.events_dlq_url.clone(),
        deliveries_queue_url: resources.deliveries_url.clone(),
        deliveries_dlq_url: resources.deliveries_dlq_url.clone(),
        // Lambda's slow lane; `serve` bounds slow endpoints in process and does not use it.
        slow_deliveries_queue_url: resources.slow_deliveries_url.clone(),
        service: config.settings.clone(),
    };
    let aws_backend = AwsBackend::with_clients(dynamodb, sqs, &settings);
    // Counted in the table, as the deployed senders count: shared by every process.
    let rates = aws_backend.store.clone();
    let pipeline = Pipeline {
        store: aws_backend.store.clone(),
        events: aws_backend.events.clone(),
        deliveries: aws_backend.deliveries.clone(),
    };
    let backend = Backend::<AwsPorts<ReqwestSender>> {
        pipeline,
        dead_letters: aws_backend.dead_letters(),
        store: aws_backend.store,
        events: aws_backend.events,
        deliveries: aws_backend.deliveries,
        pruned: None,
        subscription_cache: config.settings.subscription_cache,
        poll_wait: Duration::from_secs(5),
    };
    run_pipeline(backend, rates, &config, None).await
}

/// Mints an admin key named `name` into the DynamoDB table `table`; answers the key.
pub async fn create_aws_admin_key(table: String, name: &str) -> Result<String, String> {
    let client = aws_sdk_dynamodb::Client::new(&load_sdk_config().await);
    // A clear answer for the usual mistake (wrong region, stack not deployed yet).
    client
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .map_err(|_| format!("no DynamoDB table {table:?} here: check the stack's name and AWS_REGION/AWS_PROFILE"))?;
    let store = DynamoStore::new(client, table, DEFAULT_RETENTION);
    mint_admin_key(&store, name, None).await.map(|minted| minted.key)
}
