//! The AWS wiring shared by the three Lambda functions and `webhooks serve --aws`: every
//! setting from one environment variable (the names the SAM template sets), and the adapters
//! built from one SDK configuration, once per cold start.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};

use crate::dynamodb::{DEFAULT_RETENTION, DynamoStore};
use crate::sqs::SqsQueue;
use crate::usage::Usage;
use webhooks::retry::{DeliveryPolicy, parse_schedule};
use webhooks::url_guard::{UrlPolicy, parse_allow_list};
use webhooks::validation::{DEFAULT_MAX_ENDPOINTS, parse_max_endpoints};

/// The environment variables, each read in exactly one place: [`AwsSettings::from_lookup`]
/// (the log filter: the functions' log setup).
pub mod env {
    /// The DynamoDB table (see `dynamodb::schema`).
    pub const TABLE: &str = "WEBHOOKS_TABLE";
    pub const EVENTS_QUEUE_URL: &str = "WEBHOOKS_EVENTS_QUEUE_URL";
    /// Where the dispatcher moves messages that are not events.
    pub const EVENTS_DLQ_URL: &str = "WEBHOOKS_EVENTS_DLQ_URL";
    pub const DELIVERIES_QUEUE_URL: &str = "WEBHOOKS_DELIVERIES_QUEUE_URL";
    /// Where the sender parks delivery messages it cannot process.
    pub const DELIVERIES_DLQ_URL: &str = "WEBHOOKS_DELIVERIES_DLQ_URL";
    /// The sender's slow lane (deliveries to endpoints that answer slowly).
    pub const SLOW_DELIVERIES_QUEUE_URL: &str = "WEBHOOKS_SLOW_DELIVERIES_QUEUE_URL";
    /// Retry delays after each failed attempt, e.g. `5s,5m,30m,2h,5h` (the default).
    pub const RETRY_SCHEDULE: &str = "WEBHOOKS_RETRY_SCHEDULE";
    /// Consecutive failures that disable an endpoint (default 10).
    pub const DISABLE_AFTER: &str = "WEBHOOKS_DISABLE_AFTER";
    /// How long one delivery attempt may take, e.g. `10s` (the default).
    pub const DELIVERY_TIMEOUT: &str = "WEBHOOKS_DELIVERY_TIMEOUT";
    /// `true` lets endpoints use http://localhost URLs (development only; default false).
    pub const ALLOW_INSECURE_URLS: &str = "WEBHOOKS_ALLOW_INSECURE_URLS";
    /// Internal ranges endpoints may reach, e.g. `10.0.0.0/16,fd00::/8` (default: none).
    pub const ALLOW_PRIVATE: &str = "WEBHOOKS_ALLOW_PRIVATE";
    /// Endpoints one tenant may have (default 100).
    pub const MAX_ENDPOINTS: &str = "WEBHOOKS_MAX_ENDPOINTS";
    /// Days events and deliveries are kept before DynamoDB's TTL removes them (default 30).
    pub const RETENTION_DAYS: &str = "WEBHOOKS_RETENTION_DAYS";
    /// How long the dispatcher may reuse a subscription lookup while the tenant's
    /// subscriptions version is unchanged, e.g. `60s` (the default; `0s` turns the cache off).
    pub const SUBSCRIPTION_CACHE: &str = "WEBHOOKS_SUBSCRIPTION_CACHE";
    /// The functions' log filter, e.g. `info` (the default) or `webhooks=debug` (tracing's
    /// EnvFilter syntax); read by the functions' log setup, not by [`AwsSettings`].
    pub const LOG_FILTER: &str = "RUST_LOG";

    /// Every variable the functions read, for documentation and the template check.
    pub const ALL: [&str; 15] = [
        TABLE,
        EVENTS_QUEUE_URL,
        EVENTS_DLQ_URL,
        DELIVERIES_QUEUE_URL,
        DELIVERIES_DLQ_URL,
        SLOW_DELIVERIES_QUEUE_URL,
        RETRY_SCHEDULE,
        DISABLE_AFTER,
        DELIVERY_TIMEOUT,
        ALLOW_INSECURE_URLS,
        ALLOW_PRIVATE,
        MAX_ENDPOINTS,
        RETENTION_DAYS,
        SUBSCRIPTION_CACHE,
        LOG_FILTER,
    ];
}

pub const DEFAULT_SUBSCRIPTION_CACHE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq)]
pub struct AwsSettings {
    pub table: String,
    pub events_queue_url: String,
    pub events_dlq_url: String,
    pub deliveries_queue_url: String,
    pub deliveries_dlq_url: String,
    pub slow_deliveries_queue_url: String,
    pub policy: DeliveryPolicy,
    pub url_policy: UrlPolicy,
    pub max_endpoints: usize,
    pub retention: Duration,
    pub subscription_cache: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("setting {name}: {problem}")]
pub struct SettingsError {
    pub name: &'static str,
    pub problem: String,
}

fn invalid(name: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError { name, problem: problem.into() }
}

impl AwsSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup`; required ones must be present and non-empty.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let value = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let required = |name: &'static str| value(name).ok_or_else(|| invalid(name, "is not set"));
        let duration = |name: &'static str, default: Duration| match value(name) {
            Some(text) => humantime::parse_duration(&text).map_err(|e| invalid(name, e.to_string())),
            None => Ok(default),
        };
        let defaults = DeliveryPolicy::default();
        let policy = DeliveryPolicy {
            schedule: match value(env::RETRY_SCHEDULE) {
                Some(text) => parse_schedule(&text).map_err(|e| invalid(env::RETRY_SCHEDULE, e))?,
                None => defaults.schedule,
            },
            disable_after: match value(env::DISABLE_AFTER) {
                Some(text) => match text.parse() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err(invalid(env::DISABLE_AFTER, "must be a whole number of at least 1")),
                },
                None => defaults.disable_after,
            },
            timeout: duration(env::DELIVERY_TIMEOUT, defaults.timeout)?,
        };
        let retention = match value(env::RETENTION_DAYS) {
            Some(text) => match text.parse::<u64>() {
                Ok(days) if days >= 1 => Duration::from_secs(days * 24 * 3600),
                _ => return Err(invalid(env::RETENTION_DAYS, "must be a whole number of days, at least 1")),
            },
            None => DEFAULT_RETENTION,
        };
        let allow_insecure_local = match value(env::ALLOW_INSECURE_URLS).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(invalid(env::ALLOW_INSECURE_URLS, "must be true or false")),
        };
        Ok(Self {
            table: required(env::TABLE)?,
            events_queue_url: required(env::EVENTS_QUEUE_URL)?,
            events_dlq_url: required(env::EVENTS_DLQ_URL)?,
            deliveries_queue_url: required(env::DELIVERIES_QUEUE_URL)?,
            deliveries_dlq_url: required(env::DELIVERIES_DLQ_URL)?,
            slow_deliveries_queue_url: required(env::SLOW_DELIVERIES_QUEUE_URL)?,
            policy,
            url_policy: UrlPolicy {
                allow_insecure_local,
                allow_private: parse_allow_list(&value(env::ALLOW_PRIVATE).unwrap_or_default())
                    .map_err(|e| invalid(env::ALLOW_PRIVATE, e))?,
            },
            max_endpoints: match value(env::MAX_ENDPOINTS) {
                Some(text) => parse_max_endpoints(&text).map_err(|e| invalid(env::MAX_ENDPOINTS, e))?,
                None => DEFAULT_MAX_ENDPOINTS,
            },
            retention,
            subscription_cache: duration(env::SUBSCRIPTION_CACHE, DEFAULT_SUBSCRIPTION_CACHE)?,
        })
    }
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

    /// Over clients already built (they are cheap to clone and share their connections).
    pub fn with_clients(dynamodb: aws_sdk_dynamodb::Client, sqs: aws_sdk_sqs::Client, settings: &AwsSettings) -> Self {
        let usage = Usage::default();
        Self {
            store: DynamoStore::new(dynamodb, settings.table.clone(), settings.retention),
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
        let read = settings(&REQUIRED).unwrap();
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
        let listed: std::collections::BTreeSet<String> = env::ALL.iter().map(|n| n.to_string()).collect();
        assert_eq!(asked, listed);
    }

    #[test]
    fn every_variable_is_read() {
        let mut pairs = REQUIRED.to_vec();
        pairs.extend([
            (env::RETRY_SCHEDULE, "1s,2s"),
            (env::DISABLE_AFTER, "3"),
            (env::DELIVERY_TIMEOUT, "4s"),
            (env::ALLOW_INSECURE_URLS, "true"),
            (env::ALLOW_PRIVATE, "10.0.0.0/16, fd00::/8"),
            (env::MAX_ENDPOINTS, "250"),
            (env::RETENTION_DAYS, "7"),
            (env::SUBSCRIPTION_CACHE, "0s"),
        ]);
        let read = settings(&pairs).unwrap();
        assert_eq!(read.policy.schedule, [Duration::from_secs(1), Duration::from_secs(2)]);
        assert_eq!((read.policy.disable_after, read.policy.timeout), (3, Duration::from_secs(4)));
        assert!(read.url_policy.allow_insecure_local);
        assert_eq!(read.url_policy.allow_private, parse_allow_list("10.0.0.0/16,fd00::/8").unwrap());
        assert_eq!(read.max_endpoints, 250);
        assert_eq!(read.retention, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(read.subscription_cache, Duration::ZERO);
        assert_eq!(read.table, "t");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, bad) in [
            (env::RETRY_SCHEDULE, "soon"),
            (env::DISABLE_AFTER, "0"),
            (env::DELIVERY_TIMEOUT, "ten"),
            (env::ALLOW_INSECURE_URLS, "yes"),
            (env::ALLOW_PRIVATE, "10.0.0.0/40"),
            (env::MAX_ENDPOINTS, "0"),
            (env::RETENTION_DAYS, "-1"),
        ] {
            let mut pairs = REQUIRED.to_vec();
            pairs.push((name, bad));
            assert_eq!(settings(&pairs).unwrap_err().name, name);
        }
        assert_eq!(settings(&REQUIRED[1..]).unwrap_err().name, env::TABLE);
    }
}
