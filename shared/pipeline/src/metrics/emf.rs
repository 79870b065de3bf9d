//! CloudWatch Embedded Metric Format: on Lambda, the metrics travel as one JSON log line
//! after each batch (no API call, no extra cost beyond the log bytes), and CloudWatch turns
//! them into metrics of the namespace [`NAMESPACE`], with the stack's name as dimension.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{CounterValues, Metrics, Outcome, StatusClass};

/// Where the metrics appear in CloudWatch (the template's alarms read them there).
pub const NAMESPACE: &str = "Webhooks";

/// The dimension naming the deployment (its stack, which is also its table's name).
pub const STACK_DIMENSION: &str = "Stack";

/// Every metric an EMF line may carry (the template's alarms name only these).
pub fn metric_names() -> Vec<String> {
    let mut names = count_names();
    names.extend(DURATIONS.map(str::to_owned));
    names
}

/// The duration metrics, each an array of the values observed since the last line.
const DURATIONS: [&str; 2] = ["DeliveryLatency", "AttemptDuration"];

/// The count metrics' names, in the order of [`count_values`].
fn count_names() -> Vec<String> {
    let mut names = vec!["EventsAccepted".to_owned()];
    names.extend(Outcome::ALL.map(|outcome| format!("Deliveries{}", title(outcome.as_str()))));
    names.extend(StatusClass::ALL.map(|class| format!("Attempts{}", title(class.as_str()))));
    names.push("EndpointsAutoDisabled".to_owned());
    names
}

/// The counters, in the order of [`count_names`].
fn count_values(values: &CounterValues) -> Vec<u64> {
    let mut counts = vec![values.events_accepted];
    counts.extend(values.deliveries);
    counts.extend(values.attempts);
    counts.push(values.endpoints_auto_disabled);
    counts
}

/// EMF takes at most 100 values of one metric in one line; a sender batch has at most 10.
const MAX_VALUES: usize = 100;

/// What the last line reported, and the durations observed since (in seconds, as the
/// Prometheus histograms and the template's latency alarm have them).
#[derive(Default)]
pub(super) struct Pending {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    reported: CounterValues,
    latencies: Vec<f64>,
    attempts: Vec<f64>,
}

fn push(values: &mut Vec<f64>, value: Duration) {
    if values.len() < MAX_VALUES {
        values.push(value.as_secs_f64());
    }
}

impl Pending {
    pub(super) fn delivered(&self, latency: Duration) {
        push(&mut self.state.lock().expect("not poisoned").latencies, latency);
    }

    pub(super) fn attempt(&self, duration: Duration) {
        push(&mut self.state.lock().expect("not poisoned").attempts, duration);
    }
}

/// One EMF document, ready to print as a line.
#[derive(Debug, Clone, PartialEq)]
pub struct EmfLine(pub Value);

impl std::fmt::Display for EmfLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Metrics {
    /// What happened since the last line, as an EMF document for the stack `stack` stamped
    /// `now_ms`; `None` when nothing did (or these metrics are not [`Metrics::for_lambda`]).
    pub fn emf_line(&self, stack: &str, now_ms: u64) -> Option<EmfLine> {
        let pending = self.emf.as_ref()?;
        let now = self.totals();
        let mut state = pending.state.lock().expect("not poisoned");
        let was = std::mem::replace(&mut state.reported, now.clone());
        let deltas = count_values(&now).into_iter().zip(count_values(&was)).map(|(now, was)| now - was);
        let counts: Vec<(String, u64)> = count_names().into_iter().zip(deltas).collect();
        let latencies = std::mem::take(&mut state.latencies);
        let attempts = std::mem::take(&mut state.attempts);
        drop(state);

        let mut definitions = Vec::new();
        let mut document = Map::new();
        for (name, value) in counts.into_iter().filter(|(_, value)| *value > 0) {
            definitions.push(json!({"Name": name, "Unit": "Count"}));
            document.insert(name, json!(value));
        }
        for (name, values) in DURATIONS.into_iter().zip([latencies, attempts]) {
            if !values.is_empty() {
                definitions.push(json!({"Name": name, "Unit": "Seconds"}));
                document.insert(name.to_owned(), json!(values));
            }
        }
        if definitions.is_empty() {
            return None;
        }
        document.insert(STACK_DIMENSION.to_owned(), json!(stack));
        document.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": now_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[STACK_DIMENSION]],
                    "Metrics": definitions,
                }],
            }),
        );
        Some(EmfLine(Value::Object(document)))
    }
}

/// `2xx` stays, `delivered` becomes `Delivered`: the metric names' casing.
fn title(label: &str) -> String {
    let mut chars = label.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
