//! The queues, defined once for both backends: `webhooks serve` creates them in its SQLite
//! file from these definitions, `serve --aws --provision` on SQS, and
//! `tests/tests/template.rs` holds template.yaml to them.

pub use crate::queues::dead_letters::EVENT_MAX_RECEIVES;

use std::time::Duration;

use crate::deliveries::retry::DeliveryPolicy;

/// How long the functions may run; the queues' visibility timeouts are 6x these, as AWS
/// advises for an SQS event source.
pub const DISPATCHER_TIMEOUT: Duration = Duration::from_secs(30);
pub const SENDER_TIMEOUT: Duration = Duration::from_secs(60);
/// Events wait 4 days (SQS's default) for the dispatcher, which takes them within seconds.
pub const EVENTS_RETENTION: Duration = Duration::from_secs(4 * 24 * 3600);
/// SQS's maximum, 14 days: a delivery stays on its queue for its whole retry schedule, and
/// the longest allowed (20 retries of at most 12 hours) takes 10 days.
pub const DELIVERIES_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);
/// Dead letters wait 14 days (SQS's maximum) for a look and a redrive. SQS counts a message's
/// retention from its first enqueue, so a delivery parked after a long schedule has less.
pub const DEAD_LETTER_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);
/// A dead-letter queue's visibility timeout: how long a redrive holds what it moves.
pub const DEAD_LETTER_VISIBILITY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq)]
pub struct QueueDefinition {
    pub name: String,
    /// How long a received message stays hidden unless deleted or changed.
    pub visibility_timeout: Duration,
    pub retention: Duration,
    /// The redrive policy: its dead-letter queue's name and maxReceiveCount.
    pub redrive: Option<(String, u32)>,
}

/// Every queue, by role.
#[derive(Debug, Clone, PartialEq)]
pub struct Queues {
    pub events_dlq: QueueDefinition,
    pub events: QueueDefinition,
    pub deliveries_dlq: QueueDefinition,
    pub deliveries: QueueDefinition,
    /// The sender's slow lane on Lambda: deliveries to endpoints that answer slowly, consumed
    /// with a concurrency of their own so they never hold the main lane's invocations.
    /// `serve` bounds slow endpoints in process and does not use it.
    pub slow_deliveries: QueueDefinition,
}

impl Queues {
    /// The queues named `{prefix}-events` and so on (on SQS), or `events` and so on without a
    /// prefix (in one SQLite file); the deliveries queues redrive after the policy's last
    /// attempt.
    pub fn named(prefix: Option<&str>, policy: &DeliveryPolicy) -> Self {
        let name = |role: &str| match prefix {
            Some(prefix) => format!("{prefix}-{role}"),
            None => role.to_owned(),
        };
        let dead_letters = |role: &str| QueueDefinition {
            name: name(role),
            visibility_timeout: DEAD_LETTER_VISIBILITY,
            retention: DEAD_LETTER_RETENTION,
            redrive: None,
        };
        let deliveries = |role: &str| QueueDefinition {
            name: name(role),
            visibility_timeout: SENDER_TIMEOUT * 6,
            retention: DELIVERIES_RETENTION,
            redrive: Some((name("deliveries-dlq"), policy.max_attempts())),
        };
        Self {
            events_dlq: dead_letters("events-dlq"),
            events: QueueDefinition {
                name: name("events"),
                visibility_timeout: DISPATCHER_TIMEOUT * 6,
                retention: EVENTS_RETENTION,
                redrive: Some((name("events-dlq"), EVENT_MAX_RECEIVES)),
            },
            deliveries_dlq: dead_letters("deliveries-dlq"),
            deliveries: deliveries("deliveries"),
            slow_deliveries: deliveries("deliveries-slow"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, visibility timeout, retention, redrive) of each queue, written out as the
    /// template and the SQLite file have them: an expectation apart from `named`.
    type Expected = (&'static str, u64, u64, Option<(&'static str, u32)>);
    /// The same, of a queue as defined.
    type Row = (String, u64, u64, Option<(String, u32)>);

    fn rows(queues: &Queues) -> Vec<Row> {
        [&queues.events_dlq, &queues.events, &queues.deliveries_dlq, &queues.deliveries, &queues.slow_deliveries]
            .into_iter()
            .map(|q| (q.name.clone(), q.visibility_timeout.as_secs(), q.retention.as_secs(), q.redrive.clone()))
            .collect()
    }

    fn expected(prefix: &str, rows: &[Expected]) -> Vec<Row> {
        rows.iter()
            .map(|(name, visibility, retention, redrive)| {
                let redrive = redrive.map(|(dlq, max)| (format!("{prefix}{dlq}"), max));
                (format!("{prefix}{name}"), *visibility, *retention, redrive)
            })
            .collect()
    }

    #[test]
    fn each_backend_names_the_queues_with_the_documented_settings() {
        const DAYS: u64 = 24 * 3600;
        // The default schedule: a first attempt and 5 retries, then the dead-letter queue.
        let table: [Expected; 5] = [
            ("events-dlq", 30, 14 * DAYS, None),
            ("events", 180, 4 * DAYS, Some(("events-dlq", 5))),
            ("deliveries-dlq", 30, 14 * DAYS, None),
            ("deliveries", 360, 14 * DAYS, Some(("deliveries-dlq", 6))),
            ("deliveries-slow", 360, 14 * DAYS, Some(("deliveries-dlq", 6))),
        ];
        let policy = DeliveryPolicy::default();
        assert_eq!(rows(&Queues::named(None, &policy)), expected("", &table));
        assert_eq!(rows(&Queues::named(Some("acme"), &policy)), expected("acme-", &table));
        // A longer schedule parks deliveries later.
        let longer = DeliveryPolicy { schedule: vec![std::time::Duration::from_secs(1); 8], ..policy };
        assert_eq!(Queues::named(None, &longer).deliveries.redrive, Some(("deliveries-dlq".into(), 9)));
    }
}
