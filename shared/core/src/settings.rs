//! The service's settings, one type for every entry point. The Lambda functions read them
//! from the environment the template sets; `webhooks serve` from its flags, each falling back
//! to the same variable; both through [`Settings::from_lookup`], so a value means the same
//! and is refused the same way wherever it is given.

use std::time::Duration;

use crate::deliveries::history::History;
use crate::deliveries::retry::{DeliveryPolicy, parse_schedule};
use crate::endpoints::rules::{DEFAULT_MAX_ENDPOINTS, parse_max_endpoints};
use crate::security::url_guard::{UrlPolicy, parse_allow_list};

/// The variables, each read in exactly one place: [`Settings::from_lookup`].
pub mod env {
    /// Retry delays after each failed attempt, e.g. `5s,5m,30m,2h,5h` (the default; empty:
    /// no retries).
    pub const RETRY_SCHEDULE: &str = "WEBHOOKS_RETRY_SCHEDULE";
    /// Consecutive failures that disable an endpoint (default 10, at least 1).
    pub const DISABLE_AFTER: &str = "WEBHOOKS_DISABLE_AFTER";
    /// Consecutive failures of an endpoint at which the operator gets `delivery.failing`
    /// (default 4, at least 1).
    pub const DELIVERY_FAILING_AFTER: &str = "WEBHOOKS_DELIVERY_FAILING_AFTER";
    /// How long one delivery attempt may take, e.g. `10s` (the default).
    pub const DELIVERY_TIMEOUT: &str = "WEBHOOKS_DELIVERY_TIMEOUT";
    /// `true` lets endpoints use http:// and localhost URLs (development only; default false).
    pub const ALLOW_INSECURE_URLS: &str = "WEBHOOKS_ALLOW_INSECURE_URLS";
    /// Internal ranges endpoints may reach, e.g. `10.0.0.0/16,fd00::/8` (default: none).
    pub const ALLOW_PRIVATE: &str = "WEBHOOKS_ALLOW_PRIVATE";
    /// Endpoints one tenant may have (default 100).
    pub const MAX_ENDPOINTS: &str = "WEBHOOKS_MAX_ENDPOINTS";
    /// How long events and deliveries are kept: a number of days, or a duration of at least
    /// an hour such as `12h` (default 30 days).
    pub const RETENTION_DAYS: &str = "WEBHOOKS_RETENTION_DAYS";
    /// How long the dispatcher may reuse a subscription lookup while the tenant's
    /// subscriptions version is unchanged, e.g. `60s` (the default; `0s` turns the cache off).
    pub const SUBSCRIPTION_CACHE: &str = "WEBHOOKS_SUBSCRIPTION_CACHE";
    /// Events of a type the tenant does not have: `reject` (the default: a 400, and the
    /// dispatcher parks one sent straight to the queue) or `accept` (delivered to the
    /// endpoints whose `*` or wildcard matches it).
    pub const UNKNOWN_EVENT_TYPES: &str = "WEBHOOKS_UNKNOWN_EVENT_TYPES";
    /// The origins that may embed the console in a frame (CSP `frame-ancestors`), separated
    /// by spaces, e.g. `https://app.example.com https://*.example.org`; `'none'` (the
    /// default) lets no site embed it.
    pub const CONSOLE_FRAME_ANCESTORS: &str = "WEBHOOKS_CONSOLE_FRAME_ANCESTORS";
    /// What the delivery history keeps: `all` (the default) or `failures` (no delivery that
    /// succeeded at its first attempt; those are counted and logged only).
    pub const HISTORY: &str = "WEBHOOKS_HISTORY";
    /// On DynamoDB: the partitions each tenant's event log and delivery listing are spread
    /// over, 1 (the default) to 32. One partition takes about 1,000 writes a second; may be
    /// raised, never lowered while items written with more are kept.
    pub const TENANT_SHARDS: &str = "WEBHOOKS_TENANT_SHARDS";

    /// Every variable [`super::Settings`] reads.
    pub const ALL: [&str; 13] = [
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
    ];
}

/// How long events and deliveries are kept unless configured otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// The shortest retention: an hour.
pub const MIN_RETENTION: Duration = Duration::from_secs(3600);
pub const DEFAULT_SUBSCRIPTION_CACHE: Duration = Duration::from_secs(60);

/// What the service does, whichever backend it runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Retries, auto-disable and the attempt timeout.
    pub policy: DeliveryPolicy,
    /// Where endpoints may point, checked at create and update and on every send.
    pub url_policy: UrlPolicy,
    /// Endpoints one tenant may have.
    pub max_endpoints: usize,
    /// How long events and deliveries are kept (SQLite: pruned in the background; DynamoDB:
    /// its TTL).
    pub retention: Duration,
    /// How long the dispatcher may reuse a subscription lookup (on DynamoDB; SQLite reads
    /// cost what the check would, so the embedded backend never caches).
    pub subscription_cache: Duration,
    /// Whether events of a type the tenant does not have are accepted ([`env::UNKNOWN_EVENT_TYPES`]).
    pub accept_unknown_event_types: bool,
    /// Who may embed the console ([`env::CONSOLE_FRAME_ANCESTORS`]): CSP source expressions.
    pub console_frame_ancestors: String,
    /// Consecutive failures at which the operator hears `delivery.failing`.
    pub delivery_failing_after: u32,
    /// What the delivery history keeps ([`env::HISTORY`]).
    pub history: History,
    /// On DynamoDB, the partitions of each tenant's event log and delivery listing
    /// ([`env::TENANT_SHARDS`]); SQLite has no partitions.
    pub tenant_shards: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            policy: DeliveryPolicy::default(),
            url_policy: UrlPolicy::default(),
            max_endpoints: DEFAULT_MAX_ENDPOINTS,
            retention: DEFAULT_RETENTION,
            subscription_cache: DEFAULT_SUBSCRIPTION_CACHE,
            accept_unknown_event_types: false,
            console_frame_ancestors: NO_FRAME_ANCESTORS.to_owned(),
            delivery_failing_after: crate::events::operational::DEFAULT_FAILING_AFTER,
            history: History::All,
            tenant_shards: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("setting {name}: {problem}")]
pub struct SettingsError {
    /// The variable (`serve` names its flag from it).
    pub name: &'static str,
    pub problem: String,
}

pub fn invalid(name: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError { name, problem: problem.into() }
}

/// A number of days (`30`), or a duration of at least an hour (`30d`, `12h`).
pub fn parse_retention(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let retention = match text.parse::<u64>() {
        Ok(days) => Duration::from_secs(days.saturating_mul(24 * 3600)),
        Err(_) => humantime::parse_duration(text).map_err(|e| e.to_string())?,
    };
    if retention < MIN_RETENTION {
        return Err("must be at least 1h (or 1 day, as a number of days)".into());
    }
    Ok(retention)
}

/// The most partitions a tenant's event log or delivery listing is spread over: a page of
/// either reads each of them.
pub const MAX_TENANT_SHARDS: u16 = 32;

/// A whole number from 1 to [`MAX_TENANT_SHARDS`].
pub fn parse_tenant_shards(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(n) if (1..=MAX_TENANT_SHARDS).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from 1 to {MAX_TENANT_SHARDS}")),
    }
}

/// Consecutive failures that disable an endpoint: a whole number of at least 1.
pub fn parse_disable_after(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("must be a whole number of at least 1".into()),
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup`; an absent or empty one takes its default (but an
    /// empty retry schedule means no retries).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let lookup: &dyn Fn(&str) -> Option<String> = &lookup;
        let mut settings = Settings::default();
        let policy = &mut settings.policy;
        // Here an empty value is one: no retries.
        if let Some(text) = lookup(env::RETRY_SCHEDULE) {
            policy.schedule = parse_schedule(&text).map_err(|problem| invalid(env::RETRY_SCHEDULE, problem))?;
        }
        if let Some(disable_after) = read(lookup, env::DISABLE_AFTER, parse_disable_after)? {
            policy.disable_after = disable_after;
        }
        if let Some(failing_after) = read(lookup, env::DELIVERY_FAILING_AFTER, parse_disable_after)? {
            settings.delivery_failing_after = failing_after;
        }
        let policy = &mut settings.policy;
        if let Some(timeout) = read(lookup, env::DELIVERY_TIMEOUT, parse_duration)? {
            policy.timeout = timeout;
        }
        if let Some(insecure) = read(lookup, env::ALLOW_INSECURE_URLS, parse_bool)? {
            settings.url_policy.allow_insecure_local = insecure;
        }
        if let Some(allowed) = read(lookup, env::ALLOW_PRIVATE, parse_allow_list)? {
            settings.url_policy.allow_private = allowed;
        }
        if let Some(max) = read(lookup, env::MAX_ENDPOINTS, parse_max_endpoints)? {
            settings.max_endpoints = max;
        }
        if let Some(retention) = read(lookup, env::RETENTION_DAYS, parse_retention)? {
            settings.retention = retention;
        }
        if let Some(cache) = read(lookup, env::SUBSCRIPTION_CACHE, parse_duration)? {
            settings.subscription_cache = cache;
        }
        if let Some(accept) = read(lookup, env::UNKNOWN_EVENT_TYPES, parse_unknown_event_types)? {
            settings.accept_unknown_event_types = accept;
        }
        if let Some(origins) = read(lookup, env::CONSOLE_FRAME_ANCESTORS, parse_frame_ancestors)? {
            settings.console_frame_ancestors = origins;
        }
        if let Some(history) = read(lookup, env::HISTORY, History::parse)? {
            settings.history = history;
        }
        if let Some(shards) = read(lookup, env::TENANT_SHARDS, parse_tenant_shards)? {
            settings.tenant_shards = shards;
        }
        Ok(settings)
    }
}

/// No site may embed the console.
pub const NO_FRAME_ANCESTORS: &str = "'none'";

/// Origins that may embed the console, as CSP `frame-ancestors` takes them: `'none'`,
/// `'self'`, or origins (`https://app.example.com`, `https://*.example.com:8443`), separated
/// by spaces or commas; answered space-separated. Nothing else passes, so the value cannot
/// add another directive to the policy.
pub fn parse_frame_ancestors(text: &str) -> Result<String, String> {
    let sources: Vec<&str> = text.split([' ', ',']).filter(|source| !source.is_empty()).collect();
    for source in &sources {
        let origin = source.strip_prefix("https://").or_else(|| source.strip_prefix("http://"));
        let valid = match origin {
            Some(host) => {
                !host.is_empty()
                    && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:*[]".contains(&b))
                    && !host.contains("**")
            }
            None => matches!(*source, "'self'" | "'none'"),
        };
        if !valid {
            return Err(format!("{source:?} is not 'none', 'self' or an origin such as https://app.example.com"));
        }
    }
    if sources.is_empty() || (sources.len() > 1 && sources.contains(&"'none'")) {
        return Err("must be 'none' alone, or 'self' and origins".into());
    }
    Ok(sources.join(" "))
}

/// The setting `name`, parsed, if it is set and not empty.
fn read<T>(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Option<T>, SettingsError> {
    let text = lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    text.map(|text| parse(&text).map_err(|problem| invalid(name, problem))).transpose()
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

/// `accept` or `reject`: whether events of a type the tenant does not have are accepted.
pub fn parse_unknown_event_types(text: &str) -> Result<bool, String> {
    match text {
        "accept" => Ok(true),
        "reject" => Ok(false),
        _ => Err("must be accept or reject".into()),
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_are_origins_or_keywords_and_nothing_else() {
        assert_eq!(parse_frame_ancestors("'none'").unwrap(), "'none'");
        assert_eq!(
            parse_frame_ancestors("https://app.example.com, https://*.example.org:8443 'self'").unwrap(),
            "https://app.example.com https://*.example.org:8443 'self'"
        );
        for bad in
            ["", "'none' https://a.example.com", "https://a.example.com; script-src *", "javascript:", "*", "https://"]
        {
            assert!(parse_frame_ancestors(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn history_is_all_unless_set_to_failures() {
        let read = |value: &str| {
            let value = value.to_owned();
            Settings::from_lookup(move |name| (name == env::HISTORY).then(|| value.clone()))
        };
        assert_eq!(Settings::from_lookup(|_| None).unwrap().history, History::All);
        assert_eq!(read("").unwrap().history, History::All);
        assert_eq!(read("failures").unwrap().history, History::Failures);
        let refused = read("some").unwrap_err();
        assert_eq!(refused.name, env::HISTORY);
        assert_eq!(refused.to_string(), "setting WEBHOOKS_HISTORY: must be all or failures");
    }
}
