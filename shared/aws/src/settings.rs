//! The AWS wiring shared by the three Lambda functions and `webhooks serve --aws`: every
//! setting from one environment variable (the names the SAM template sets), and the adapters
//! built from one SDK configuration, once per cold start.

use std::marker::PhantomData;

use aws_config::{BehaviorVersion, SdkConfig};
use webhooks::backend::Ports;
use webhooks::deliveries::outbound::HttpSender;
use webhooks::ports::SystemClock;
use webhooks::queues::dead_letters::DeadLetterQueues;
use webhooks::settings::invalid;
pub use webhooks::settings::{DEFAULT_SUBSCRIPTION_CACHE, Settings, SettingsError};

use crate::dynamodb::DynamoStore;
use crate::sqs::SqsQueue;
use crate::usage::Usage;

/// The environment variables, each read in exactly one place: the service's settings in
/// [`Settings::from_lookup`], the resources in [`AwsSettings::from_lookup`] (the log filter:
/// the functions' log setup).
pub mod env {
    pub use webhooks::settings::env::*;

    /// The DynamoDB table (see `dynamodb::schema`).
    pub const TABLE: &str = "WEBHOOKS_TABLE";
    pub const EVENTS_QUEUE_URL: &str = "WEBHOOKS_EVENTS_QUEUE_URL";
    /// Where the dispatcher parks what it cannot dispatch.
    pub const EVENTS_DLQ_URL: &str = "WEBHOOKS_EVENTS_DLQ_URL";
    pub const DELIVERIES_QUEUE_URL: &str = "WEBHOOKS_DELIVERIES_QUEUE_URL";
    /// Where the sender parks delivery messages it cannot process.
    pub const DELIVERIES_DLQ_URL: &str = "WEBHOOKS_DELIVERIES_DLQ_URL";
    /// The sender's slow lane (deliveries to endpoints that answer slowly).
    pub const SLOW_DELIVERIES_QUEUE_URL: &str = "WEBHOOKS_SLOW_DELIVERIES_QUEUE_URL";
    /// The functions' log filter, e.g. `info` (the default) or `webhooks=debug` (tracing's
    /// EnvFilter syntax); read by the functions' log setup, not by the settings.
    pub const LOG_FILTER: &str = "RUST_LOG";
    /// Where traces go (OTLP/HTTP, protobuf), e.g. `http://collector:4318`; empty: no traces.
    /// Read, with the OpenTelemetry SDK's other variables, by the functions' telemetry.
    pub const OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// Every variable the functions read, for documentation and the template check.
    pub const ALL: [&str; 21] = [
        TABLE,
        EVENTS_QUEUE_URL,
        EVENTS_DLQ_URL,
        DELIVERIES_QUEUE_URL,
        DELIVERIES_DLQ_URL,
        SLOW_DELIVERIES_QUEUE_URL,
        RETRY_SCHEDULE,
        DISABLE_AFTER,
        DELIVERY_FAILING_AFTER,
        DELIVERY_TIMEOUT,
        ALLOW_INSECURE_URLS,
        ALLOW_PRIVATE,
        MAX_ENDPOINTS,
        RETENTION_DAYS,
        SUBSCRIPTION_CACHE,
        UNKNOWN_EVENT_TYPES,
        CONSOLE_FRAME_ANCESTORS,
        HISTORY,
        TENANT_SHARDS,
        LOG_FILTER,
        OTLP_ENDPOINT,
    ];
}

/// Where the resources are, and the service's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsSettings {
    pub table: String,
    pub events_queue_url: String,
    pub events_dlq_url: String,
    pub deliveries_queue_url: String,
    pub deliveries_dlq_url: String,
    pub slow_deliveries_queue_url: String,
    pub service: Settings,
}

impl AwsSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup`; the resources must be present and non-empty.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let required = |name: &'static str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| invalid(name, "is not set"))
        };
        Ok(Self {
            table: required(env::TABLE)?,
            events_queue_url: required(env::EVENTS_QUEUE_URL)?,
            events_dlq_url: required(env::EVENTS_DLQ_URL)?,
            deliveries_queue_url: required(env::DELIVERIES_QUEUE_URL)?,
            deliveries_dlq_url: required(env::DELIVERIES_DLQ_URL)?,
            slow_deliveries_queue_url: required(env::SLOW_DELIVERIES_QUEUE_URL)?,
            service: Settings::from_lookup(&lookup)?,
        })
    }
}

/// The ports of a deployment on AWS: DynamoDB and SQS, over the HTTP client `H`.
pub struct AwsPorts<H>(PhantomData<fn() -> H>);

impl<H: HttpSender> Ports for AwsPorts<H> {
    type Store = DynamoStore;
    type Queue = SqsQueue;
    type Http = H;
    type Clock = SystemClock;
}

/// The store and the queues on AWS, sharing one SQS request counter.
#[derive(Clone)]
pub struct AwsBackend {
    pub store: DynamoStore,
    pub events: SqsQueue,
    pub events_dead_letters: SqsQueue,
    pub deliveries: SqsQueue,
    pub deliveries_dead_letters: SqsQueue,
    pub slow_deliveries: SqsQueue,
}

impl AwsBackend {
    pub fn new(config: &SdkConfig, settings: &AwsSettings) -> Self {
        Self::with_clients(aws_sdk_dynamodb::Client::new(config), aws_sdk_sqs::Client::new(config), settings)
    }

    /// Where the dispatcher and the sender park what they cannot handle.
    pub fn dead_letters(&self) -> DeadLetterQueues<SqsQueue> {
        DeadLetterQueues { events: self.events_dead_letters.clone(), deliveries: self.deliveries_dead_letters.clone() }
    }

    /// Over clients already built (they are cheap to clone and share their connections).
    pub fn with_clients(dynamodb: aws_sdk_dynamodb::Client, sqs: aws_sdk_sqs::Client, settings: &AwsSettings) -> Self {
        let usage = Usage::default();
        Self {
            store: DynamoStore::new(dynamodb, settings.table.clone(), settings.service.retention)
                .with_shards(settings.service.tenant_shards),
            events: SqsQueue::new(sqs.clone(), settings.events_queue_url.clone(), usage.clone()),
            events_dead_letters: SqsQueue::new(sqs.clone(), settings.events_dlq_url.clone(), usage.clone()),
            deliveries: SqsQueue::new(sqs.clone(), settings.deliveries_queue_url.clone(), usage.clone()),
            deliveries_dead_letters: SqsQueue::new(sqs.clone(), settings.deliveries_dlq_url.clone(), usage.clone()),
            slow_deliveries: SqsQueue::new(sqs, settings.slow_deliveries_queue_url.clone(), usage),
        }
    }
}

/// The SDK configuration from the usual sources (AWS_REGION, AWS_ENDPOINT_URL, credentials).
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use webhooks::deliveries::retry::DeliveryPolicy;
    use webhooks::endpoints::rules::DEFAULT_MAX_ENDPOINTS;
    use webhooks::security::url_guard::{UrlPolicy, parse_allow_list};
    use webhooks::settings::DEFAULT_RETENTION;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<AwsSettings, SettingsError> {
        let vars: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        AwsSettings::from_lookup(|name| vars.get(name).cloned())
    }

    const REQUIRED: [(&str, &str); 6] = [
        (env::TABLE, "t"),
        (env::EVENTS_QUEUE_URL, "http://q/e"),
        (env::EVENTS_DLQ_URL, "http://q/e-dlq"),
        (env::DELIVERIES_QUEUE_URL, "http://q/d"),
        (env::DELIVERIES_DLQ_URL, "http://q/d-dlq"),
        (env::SLOW_DELIVERIES_QUEUE_URL, "http://q/d-slow"),
    ];

    #[test]
    fn defaults_fill_in_everything_optional() {
        let read = settings(&REQUIRED).unwrap().service;
        assert_eq!(read.policy, DeliveryPolicy::default());
        assert_eq!(read.retention, DEFAULT_RETENTION);
        assert_eq!(read.subscription_cache, DEFAULT_SUBSCRIPTION_CACHE);
        assert_eq!(read.url_policy, UrlPolicy::default());
        assert_eq!(read.max_endpoints, DEFAULT_MAX_ENDPOINTS);
    }

    #[test]
    fn all_names_exactly_the_variables_read() {
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let required: HashMap<&str, &str> = REQUIRED.into_iter().collect();
        AwsSettings::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            required.get(name).map(|v| v.to_string())
        })
        .unwrap();
        let mut asked = asked.into_inner();
        asked.insert(env::LOG_FILTER.to_owned()); // read by the functions' log setup
        asked.insert(env::OTLP_ENDPOINT.to_owned()); // read by the functions' telemetry
        let listed: std::collections::BTreeSet<String> = env::ALL.iter().map(|n| n.to_string()).collect();
        assert_eq!(asked, listed);
    }

    #[test]
    fn every_variable_is_read() {
        let mut pairs = REQUIRED.to_vec();
        pairs.extend([
            (env::RETRY_SCHEDULE, "1s,2s"),
            (env::DISABLE_AFTER, "3"),
            (env::DELIVERY_FAILING_AFTER, "2"),
            (env::DELIVERY_TIMEOUT, "4s"),
            (env::ALLOW_INSECURE_URLS, "true"),
            (env::ALLOW_PRIVATE, "10.0.0.0/16, fd00::/8"),
            (env::MAX_ENDPOINTS, "250"),
            (env::RETENTION_DAYS, "7"),
            (env::SUBSCRIPTION_CACHE, "0s"),
            (env::UNKNOWN_EVENT_TYPES, "accept"),
        ]);
        let all = settings(&pairs).unwrap();
        assert_eq!(all.table, "t");
        let read = all.service;
        assert_eq!(read.policy.schedule, [Duration::from_secs(1), Duration::from_secs(2)]);
        assert_eq!((read.policy.disable_after, read.policy.timeout), (3, Duration::from_secs(4)));
        assert!(read.url_policy.allow_insecure_local);
        assert_eq!(read.url_policy.allow_private, parse_allow_list("10.0.0.0/16,fd00::/8").unwrap());
        assert_eq!(read.max_endpoints, 250);
        assert_eq!(read.retention, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(read.subscription_cache, Duration::ZERO);
        assert!(read.accept_unknown_event_types);
        assert_eq!(read.delivery_failing_after, 2);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, bad) in [
            (env::RETRY_SCHEDULE, "soon"),
            (env::DISABLE_AFTER, "0"),
            (env::DELIVERY_FAILING_AFTER, "0"),
            (env::DELIVERY_TIMEOUT, "ten"),
            (env::ALLOW_INSECURE_URLS, "yes"),
            (env::ALLOW_PRIVATE, "10.0.0.0/40"),
            (env::MAX_ENDPOINTS, "0"),
            (env::RETENTION_DAYS, "-1"),
            (env::RETENTION_DAYS, "0"),
            (env::RETENTION_DAYS, "30m"),
            (env::SUBSCRIPTION_CACHE, "a while"),
            (env::UNKNOWN_EVENT_TYPES, "yes"),
        ] {
            let mut pairs = REQUIRED.to_vec();
            pairs.push((name, bad));
            assert_eq!(settings(&pairs).unwrap_err().name, name);
        }
        assert_eq!(settings(&REQUIRED[1..]).unwrap_err().name, env::TABLE);
    }

    #[test]
    fn retention_is_days_or_a_duration() {
        for (text, hours) in [("7", 7 * 24), ("12h", 12), ("30d", 30 * 24)] {
            let mut pairs = REQUIRED.to_vec();
            pairs.push((env::RETENTION_DAYS, text));
            assert_eq!(settings(&pairs).unwrap().service.retention, Duration::from_secs(hours * 3600), "{text}");
        }
    }
}
