//! `webhooks serve`'s flags for the service's settings. Each falls back to the variable the
//! Lambda functions read, and both go through the one parser ([`Settings::from_lookup`]), so
//! a value means the same, and is refused the same way, wherever it is given.

use webhooks::settings::{Settings, env};

#[derive(clap::Args, Debug, Default)]
pub struct SettingsFlags {
    /// Also allow http:// endpoint URLs, and both http:// and https:// to exactly localhost,
    /// 127.0.0.1 and [::1] (development); no other internal address.
    #[arg(long)]
    allow_insecure_urls: bool,
    /// Let endpoints reach this internal range, e.g. 10.0.0.0/16 (repeat or separate with
    /// commas). Private, loopback, link-local and other internal addresses are refused
    /// otherwise, on the address each delivery connects to.
    #[arg(long, value_name = "CIDR")]
    allow_private: Vec<String>,
    /// How long events and deliveries are kept: `30d` (the default), `12h`, or a number of
    /// days; on SQLite older ones are pruned in the background, on --aws DynamoDB's TTL
    /// removes them.
    #[arg(long, value_name = "DURATION")]
    retention: Option<String>,
    /// Endpoints one tenant may have (1 to 10000; default 100).
    #[arg(long, value_name = "N")]
    max_endpoints: Option<String>,
    /// Delay before each retry, e.g. `5s,5m,30m,2h,5h` (the default); empty for none.
    #[arg(long, value_name = "LIST")]
    retry_schedule: Option<String>,
    /// Consecutive failed attempts that disable an endpoint (at least 1; default 10).
    #[arg(long, value_name = "N")]
    disable_after: Option<String>,
    /// Consecutive failed attempts of an endpoint at which the operator's webhooks get
    /// delivery.failing (at least 1; default 4).
    #[arg(long, value_name = "N")]
    delivery_failing_after: Option<String>,
    /// How long one delivery attempt may take, e.g. `10s` (the default).
    #[arg(long, value_name = "DURATION")]
    delivery_timeout: Option<String>,
    /// With --aws: how long the dispatcher may reuse a subscription lookup while the
    /// tenant's endpoints are unchanged, e.g. `60s` (the default; `0s`: off).
    #[arg(long, value_name = "DURATION")]
    subscription_cache: Option<String>,
    /// Events of a type the tenant does not have: `reject` (the default, a 400) or `accept`
    /// (delivered to the endpoints whose `*` or wildcard matches it).
    #[arg(long, value_name = "accept|reject")]
    unknown_event_types: Option<String>,
    /// Origins that may embed the console in a frame (CSP frame-ancestors), e.g.
    /// "https://app.example.com https://*.example.org" (default 'none': no site)
    #[arg(long, value_name = "ORIGINS")]
    console_frame_ancestors: Option<String>,
    /// What the delivery history keeps: `all` (the default) or `failures` (a delivery that
    /// succeeds at its first attempt is counted in its endpoint's stats and logged, not kept)
    #[arg(long, value_name = "all|failures")]
    history: Option<String>,
    /// With --aws: the DynamoDB partitions each tenant's event log and delivery listing are
    /// spread over, 1 (the default) to 32; raise it for a tenant past about 1,000 events or
    /// deliveries a second, and never lower it while older items are kept
    #[arg(long, value_name = "N")]
    tenant_shards: Option<String>,
}

impl SettingsFlags {
    /// Each setting's variable, its flag, and the flag's value if it was given.
    fn given(&self) -> [(&'static str, &'static str, Option<String>); 13] {
        [
            (env::ALLOW_INSECURE_URLS, "--allow-insecure-urls", self.allow_insecure_urls.then(|| "true".to_owned())),
            (
                env::ALLOW_PRIVATE,
                "--allow-private",
                (!self.allow_private.is_empty()).then(|| self.allow_private.join(",")),
            ),
            (env::RETENTION_DAYS, "--retention", self.retention.clone()),
            (env::MAX_ENDPOINTS, "--max-endpoints", self.max_endpoints.clone()),
            (env::RETRY_SCHEDULE, "--retry-schedule", self.retry_schedule.clone()),
            (env::DISABLE_AFTER, "--disable-after", self.disable_after.clone()),
            (env::DELIVERY_FAILING_AFTER, "--delivery-failing-after", self.delivery_failing_after.clone()),
            (env::DELIVERY_TIMEOUT, "--delivery-timeout", self.delivery_timeout.clone()),
            (env::SUBSCRIPTION_CACHE, "--subscription-cache", self.subscription_cache.clone()),
            (env::UNKNOWN_EVENT_TYPES, "--unknown-event-types", self.unknown_event_types.clone()),
            (env::CONSOLE_FRAME_ANCESTORS, "--console-frame-ancestors", self.console_frame_ancestors.clone()),
            (env::HISTORY, "--history", self.history.clone()),
            (env::TENANT_SHARDS, "--tenant-shards", self.tenant_shards.clone()),
        ]
    }

    /// The settings from these flags, each unset one from its variable in `environment`.
    pub fn settings(&self, environment: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let given = self.given();
        let flag_value =
            |name: &str| given.iter().find(|(variable, _, _)| *variable == name).and_then(|(_, _, v)| v.clone());
        Settings::from_lookup(|name| flag_value(name).or_else(|| environment(name))).map_err(|error| {
            let flag = given.iter().find(|(variable, _, _)| *variable == error.name).map_or("", |(_, flag, _)| flag);
            format!("{flag} (or {}): {}", error.name, error.problem)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: SettingsFlags,
    }

    fn settings(args: &[&str], vars: &[(&str, &str)]) -> Result<Settings, String> {
        let cli = Cli::try_parse_from([&["serve"], args].concat()).unwrap();
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        cli.flags.settings(|name| vars.get(name).cloned())
    }

    #[test]
    fn every_setting_has_its_flag() {
        let named: std::collections::BTreeSet<&str> =
            SettingsFlags::default().given().iter().map(|(name, _, _)| *name).collect();
        assert_eq!(named, env::ALL.into_iter().collect());
    }

    #[test]
    fn a_flag_wins_over_its_variable_and_both_parse_the_same() {
        let from_flags = settings(&["--retry-schedule", "1s,2s", "--disable-after", "3", "--retention", "12h"], &[]);
        let from_vars =
            settings(&[], &[(env::RETRY_SCHEDULE, "1s,2s"), (env::DISABLE_AFTER, "3"), (env::RETENTION_DAYS, "12h")]);
        assert_eq!(from_flags, from_vars);
        let framed = settings(&["--console-frame-ancestors", "https://a.example.com,'self'"], &[]).unwrap();
        assert_eq!(framed.console_frame_ancestors, "https://a.example.com 'self'");
        let both = settings(&["--disable-after", "4"], &[(env::DISABLE_AFTER, "3")]).unwrap();
        assert_eq!(both.policy.disable_after, 4);
        let none = settings(&["--retry-schedule", ""], &[(env::RETRY_SCHEDULE, "1s")]).unwrap();
        assert!(none.policy.schedule.is_empty(), "an empty flag means no retries");
    }

    #[test]
    fn a_bad_value_names_its_flag_and_its_variable() {
        for (args, says) in [
            (&["--disable-after", "0"][..], "--disable-after (or WEBHOOKS_DISABLE_AFTER): must be"),
            (&["--retention", "30m"][..], "--retention (or WEBHOOKS_RETENTION_DAYS): must be at least 1h"),
            (&["--allow-private", "10.0.0.0/40"][..], "--allow-private (or WEBHOOKS_ALLOW_PRIVATE): "),
            (&["--delivery-timeout", "soon"][..], "--delivery-timeout (or WEBHOOKS_DELIVERY_TIMEOUT): "),
            (&["--unknown-event-types", "maybe"][..], "--unknown-event-types (or WEBHOOKS_UNKNOWN_EVENT_TYPES): "),
            (&["--history", "some"][..], "--history (or WEBHOOKS_HISTORY): must be all or failures"),
            (
                &["--tenant-shards", "33"][..],
                "--tenant-shards (or WEBHOOKS_TENANT_SHARDS): must be a whole number from 1 to 32",
            ),
            (
                &["--console-frame-ancestors", "https://a.example.com; script-src *"][..],
                "--console-frame-ancestors (or WEBHOOKS_CONSOLE_FRAME_ANCESTORS): ",
            ),
        ] {
            let error = settings(args, &[]).unwrap_err();
            assert!(error.starts_with(says), "{error}");
        }
        let error = settings(&[], &[(env::MAX_ENDPOINTS, "0")]).unwrap_err();
        assert!(error.starts_with("--max-endpoints (or WEBHOOKS_MAX_ENDPOINTS): "), "{error}");
    }
}
