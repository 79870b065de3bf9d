//! The API on AWS: DynamoDB and SQS behind the same router (the Lambda function and
//! `webhooks serve --aws`).

use std::sync::Arc;

use webhooks::dead_letters::DeadLetterQueues;
use webhooks::ports::SystemClock;
use webhooks_aws::dynamodb::DynamoStore;
use webhooks_aws::sqs::SqsQueue;
use webhooks_aws::{AwsBackend, AwsSettings};
use webhooks_http::ReqwestSender;

use crate::state::{ApiSettings, App, Ports};

pub struct AwsPorts;

impl Ports for AwsPorts {
    type Store = DynamoStore;
    type Queue = SqsQueue;
    type Http = ReqwestSender;
    type Clock = SystemClock;
}

/// The application state over `backend`; build it once per cold start.
pub fn aws_app(backend: &AwsBackend, settings: &AwsSettings, http: ReqwestSender) -> Arc<App<AwsPorts>> {
    Arc::new(App {
        store: backend.store.clone(),
        events: backend.events.clone(),
        deliveries: backend.deliveries.clone(),
        dead_letters: DeadLetterQueues {
            events: backend.events_dead_letters.clone(),
            deliveries: backend.deliveries_dead_letters.clone(),
        },
        http,
        clock: SystemClock,
        settings: ApiSettings {
            url_policy: settings.service.url_policy.clone(),
            max_endpoints: settings.service.max_endpoints,
            policy: settings.service.policy.clone(),
            accept_unknown_event_types: settings.service.accept_unknown_event_types,
        },
    })
}
