//! The API Lambda function: the router behind API Gateway (HTTP API, payload format 2.0).

use webhooks_aws::{AwsBackend, AwsSettings, load_sdk_config};
use webhooks_http::ReqwestSender;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    webhooks_lambda::init_json_logs();
    let settings = AwsSettings::from_env()?;
    let backend = AwsBackend::new(&load_sdk_config().await, &settings);
    let app = webhooks_api::aws::aws_app(&backend, &settings, ReqwestSender::new(settings.service.url_policy.clone()));
    lambda_http::run(webhooks_api::router(app)).await
}
