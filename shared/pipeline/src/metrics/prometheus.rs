//! The Prometheus text exposition format (version 0.0.4) of [`Metrics`] and the gauges read
//! at scrape time. Every series is written from startup, at 0 until something happens.

use std::fmt::Write;

use super::histogram::HistogramValues;
use super::{CounterValues, Metrics, Outcome, StatusClass};

/// What is read from the ports at each scrape. A queue whose depth could not be read is left
/// out of that scrape (and the failure logged), rather than reported as 0.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    /// Messages waiting in each work queue, by its role (`events`, `deliveries`).
    pub queue_depth: Vec<(&'static str, u64)>,
    /// Messages parked in each dead-letter queue, by the name the API gives it.
    pub dead_letters: Vec<(&'static str, u64)>,
    /// Endpoints disabled now, of every tenant.
    pub endpoints_disabled: Option<u64>,
}

/// The media type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The whole exposition: counters, histograms and gauges.
pub fn render(metrics: &Metrics, gauges: &Gauges) -> String {
    let mut out = String::with_capacity(4096);
    let by_tenant = metrics.by_tenant();
    let totals = metrics.totals();
    // Labelled by tenant, or one unlabelled series: never both (a sum would count twice).
    let series: Vec<(Option<&str>, &CounterValues)> = if by_tenant.is_empty() {
        vec![(None, &totals)]
    } else {
        by_tenant.iter().map(|(tenant, values)| (Some(tenant.as_str()), values)).collect()
    };

    header(&mut out, "webhooks_events_accepted_total", "counter", "Events accepted and enqueued for fan-out.");
    for (tenant, values) in &series {
        sample(&mut out, "webhooks_events_accepted_total", &labels(*tenant, None), values.events_accepted);
    }
    header(
        &mut out,
        "webhooks_deliveries_total",
        "counter",
        "Delivery messages handled, by outcome: delivered, failed (no attempt follows), retrying, skipped (not attempted).",
    );
    for (tenant, values) in &series {
        for outcome in Outcome::ALL {
            let label = labels(*tenant, Some(("outcome", outcome.as_str())));
            sample(&mut out, "webhooks_deliveries_total", &label, values.deliveries[outcome as usize]);
        }
    }
    header(
        &mut out,
        "webhooks_delivery_attempts_total",
        "counter",
        "HTTP attempts, by the receiver's status class, or network and timeout when it gave none.",
    );
    for (tenant, values) in &series {
        for class in StatusClass::ALL {
            let label = labels(*tenant, Some(("status_class", class.as_str())));
            sample(&mut out, "webhooks_delivery_attempts_total", &label, values.attempts[class as usize]);
        }
    }
    header(
        &mut out,
        "webhooks_endpoints_auto_disabled_total",
        "counter",
        "Endpoints disabled by their receiver's answers (consecutive failures, 410 Gone).",
    );
    for (tenant, values) in &series {
        sample(
            &mut out,
            "webhooks_endpoints_auto_disabled_total",
            &labels(*tenant, None),
            values.endpoints_auto_disabled,
        );
    }

    histogram(
        &mut out,
        "webhooks_delivery_latency_seconds",
        "From the event's acceptance to its delivery, retries included.",
        &metrics.delivery_latency.values(),
    );
    histogram(
        &mut out,
        "webhooks_attempt_duration_seconds",
        "How long each HTTP attempt took.",
        &metrics.attempt_duration.values(),
    );

    header(&mut out, "webhooks_queue_depth", "gauge", "Messages waiting in each work queue.");
    for (queue, depth) in &gauges.queue_depth {
        sample(&mut out, "webhooks_queue_depth", &format!("{{queue=\"{queue}\"}}"), *depth);
    }
    header(&mut out, "webhooks_dead_letters", "gauge", "Messages parked in each dead-letter queue.");
    for (queue, depth) in &gauges.dead_letters {
        sample(&mut out, "webhooks_dead_letters", &format!("{{queue=\"{queue}\"}}"), *depth);
    }
    if let Some(disabled) = gauges.endpoints_disabled {
        header(&mut out, "webhooks_endpoints_disabled", "gauge", "Endpoints disabled now, of every tenant.");
        sample(&mut out, "webhooks_endpoints_disabled", "", disabled);
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: u64) {
    let _ = writeln!(out, "{name}{labels} {value}");
}

/// `{tenant="...",extra="..."}`, or nothing when neither is given.
fn labels(tenant: Option<&str>, extra: Option<(&str, &str)>) -> String {
    let mut pairs = Vec::new();
    if let Some(tenant) = tenant {
        pairs.push(format!("tenant=\"{}\"", escape(tenant)));
    }
    if let Some((name, value)) = extra {
        pairs.push(format!("{name}=\"{}\"", escape(value)));
    }
    if pairs.is_empty() { String::new() } else { format!("{{{}}}", pairs.join(",")) }
}

/// A label value as the format wants it: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn histogram(out: &mut String, name: &str, help: &str, values: &HistogramValues) {
    header(out, name, "histogram", help);
    for (bound, count) in &values.cumulative {
        let le = if bound.is_infinite() { "+Inf".to_owned() } else { bound.to_string() };
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", values.sum_seconds, values.count);
}
