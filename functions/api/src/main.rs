//! The API Lambda function: the shared router behind API Gateway (HTTP API, payload format
//! 2.0), over DynamoDB and SQS.

use std::sync::Arc;

use webhooks::ports::SystemClock;
use webhooks_api::App;
use webhooks_aws::{AwsBackend, AwsPorts, AwsSettings, load_sdk_config};
use webhooks_http::ReqwestSender;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhooks_lambda::init_json_logs();
    let settings = AwsSettings::from_env()?;
    let backend = AwsBackend::new(&load_sdk_config().await, &settings);
    let telemetry = webhooks_lambda::Telemetry::from_env(&settings.table, "webhooks-api")?;
    let app = App::<AwsPorts<ReqwestSender>> {
        dead_letters: backend.dead_letters(),
        store: backend.store,
        events: backend.events,
        deliveries: backend.deliveries,
        http: ReqwestSender::new(settings.service.url_policy.clone()),
        clock: SystemClock,
        settings: (&settings.service).into(),
        metrics: telemetry.metrics.clone(),
        tracer: telemetry.tracer.clone(),
    };
    lambda_http::run(telemetry.around(webhooks_api::router(Arc::new(app)))).await
}
