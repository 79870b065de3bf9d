//! The sender Lambda function: signs and POSTs each pending delivery of an SQS batch.

use lambda_runtime::{LambdaEvent, service_fn};
use webhooks::adapters::http::ReqwestSender;
use webhooks::aws::{AwsBackend, AwsSettings, load_sdk_config};
use webhooks::ports::SystemClock;
use webhooks_lambda::{aws_lambda_events::sqs::SqsEvent, handle_sqs_event};
use webhooks_sender::Sender;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    webhooks_lambda::init_json_logs();
    let settings = AwsSettings::from_env()?;
    let backend = AwsBackend::new(&load_sdk_config().await, &settings);
    let rates = backend.store.clone();
    let sender = &Sender::new(
        backend.store,
        backend.deliveries,
        ReqwestSender::new(settings.url_policy),
        SystemClock,
        settings.policy,
    )
    // Counted in the table: every Lambda environment shares the count.
    .with_rate_counter(rates);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        handle_sqs_event(event, move |batch| sender.handle_batch(batch))
    }))
    .await
}
