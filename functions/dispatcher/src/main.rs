//! The dispatcher Lambda function: SQS events queue in, pending deliveries out.

use lambda_runtime::{LambdaEvent, service_fn};
use webhooks_aws::{AwsBackend, AwsSettings, load_sdk_config};
use webhooks_lambda::{Telemetry, aws_lambda_events::sqs::SqsEvent, handle_sqs_event};
use webhooks_pipeline::Dispatcher;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    webhooks_lambda::init_json_logs();
    let settings = AwsSettings::from_env()?;
    let backend = AwsBackend::new(&load_sdk_config().await, &settings);
    let telemetry = &Telemetry::from_env(&settings.table, "webhooks-dispatcher")?;
    let dispatcher = &Dispatcher::new(
        backend.store,
        backend.deliveries,
        backend.events_dead_letters,
        settings.service.subscription_cache,
    )
    .accepting_unknown_types(settings.service.accept_unknown_event_types)
    .with_tracer(telemetry.tracer.clone());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        handle_sqs_event(event, move |batch| telemetry.after(dispatcher.handle_batch(batch)))
    }))
    .await
}
