//! The port conformance suite against DynamoDB and SQS, on the local emulator: the same
//! checks as `conformance_sqlite.rs`, so both backends provably behave alike.

use std::time::Duration;

use webhooks_aws::deployment::{QueueDefinition, provision_queue, provision_table};
use webhooks_aws::dynamodb::{DEFAULT_RETENTION, DynamoStore};
use webhooks_aws::sqs::SqsQueue;
use webhooks_aws::usage::Usage;
use webhooks_tests::conformance;
use webhooks_tests::local_aws::{local_aws, unique_name};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_contract() {
    let config = local_aws().sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("store");
    provision_table(&client, &table).await.unwrap();
    let store = DynamoStore::new(client, table, DEFAULT_RETENTION);
    conformance::store(&store).await;
    conformance::rate_counter(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_contract() {
    let config = local_aws().sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&config);
    let visibility = Duration::from_secs(1);
    let name = unique_name("q");
    let dead_letters = QueueDefinition {
        name: format!("{name}-dlq"),
        visibility_timeout: visibility,
        retention: Duration::from_secs(3600),
        redrive: None,
    };
    let queue =
        QueueDefinition { name: name.clone(), redrive: Some((dead_letters.name.clone(), 3)), ..dead_letters.clone() };
    let dead_letters_url = provision_queue(&client, &dead_letters).await.unwrap();
    let dead_letters_definition = dead_letters;
    let queue_url = provision_queue(&client, &queue).await.unwrap();
    let usage = Usage::default();
    let queue = SqsQueue::new(client.clone(), queue_url, usage.clone());
    let dead_letters = SqsQueue::new(client.clone(), dead_letters_url, usage.clone());
    conformance::queue(&queue, &dead_letters, visibility, 3).await;
    conformance::long_poll_wakes_on_send(&queue).await;
    conformance::delayed_send(&queue).await;
    let other = QueueDefinition { name: format!("{name}-dlq-2"), ..dead_letters_definition };
    let dead_letters = SqsQueue::new(client.clone(), provision_queue(&client, &other).await.unwrap(), usage);
    conformance::dead_letters(&queue, &dead_letters).await;
}
