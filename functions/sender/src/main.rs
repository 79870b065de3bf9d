//! The sender Lambda function: signs and POSTs each pending delivery of an SQS batch. Two
//! event sources feed it: the deliveries queue (the main lane, where a request gets 1 s) and
//! the slow lane (see `slow_lane`), each batch handled by the sender of its queue.

use lambda_runtime::{LambdaEvent, service_fn};
use webhooks::ports::SystemClock;
use webhooks_aws::{AwsBackend, AwsSettings, load_sdk_config};
use webhooks_http::ReqwestSender;
use webhooks_lambda::{Telemetry, aws_lambda_events::sqs::SqsEvent, handle_sqs_event, is_from_queue};
use webhooks_pipeline::Sender;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    webhooks_lambda::init_json_logs();
    let settings = AwsSettings::from_env()?;
    let backend = AwsBackend::new(&load_sdk_config().await, &settings);
    let http = ReqwestSender::new(settings.service.url_policy.clone());
    let telemetry = &Telemetry::from_env(&settings.table, "webhooks-sender")?;
    // Rates are counted in the table: every Lambda environment shares the count.
    let sender = |queue| {
        Sender::new(backend.store.clone(), queue, http.clone(), SystemClock, settings.service.policy.clone())
            .with_rate_counter(backend.store.clone())
            .with_dead_letters(backend.deliveries_dead_letters.clone())
            .with_metrics(telemetry.metrics.clone())
            .with_tracer(telemetry.tracer.clone())
            .with_operator_alerts(backend.events.clone(), settings.service.delivery_failing_after)
            .with_history(settings.service.history)
    };
    let main_lane = &sender(backend.deliveries.clone()).with_slow_lane(backend.slow_deliveries.clone());
    let slow_lane = &sender(backend.slow_deliveries.clone());
    let slow_url = &settings.slow_deliveries_queue_url;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let sender = if is_from_queue(&event, slow_url) { slow_lane } else { main_lane };
        handle_sqs_event(event, move |batch| telemetry.after(sender.handle_batch(batch)))
    }))
    .await
}
