use std::time::Duration;

use webhooks::deliveries::{Attempt, Delivery, DeliveryStatus};
use webhooks::ids::{DeliveryId, EndpointId};
use webhooks::time::Timestamp;

use super::*;

fn delivery(tenant: &str, status: DeliveryStatus, latency_ms: i64) -> Delivery {
    let created = Timestamp::from_millis(1_700_000_000_000);
    let endpoint = EndpointId::generate(created);
    Delivery {
        id: DeliveryId::for_event(tenant, "evt_1", &endpoint, created),
        tenant: tenant.to_owned(),
        endpoint_id: endpoint,
        event_id: "evt_1".to_owned(),
        event_type: "user.created".to_owned(),
        status,
        http_status: None,
        attempts: 1,
        created_at: created,
        delivered_at: (status == DeliveryStatus::Delivered)
            .then(|| Timestamp::from_millis(created.as_millis() + latency_ms)),
        next_retry_at: None,
        last_error: None,
    }
}

fn attempt(status: Option<u16>, error: Option<&str>, duration_ms: u64) -> Attempt {
    Attempt {
        at: Timestamp::from_millis(0),
        duration_ms,
        http_status: status,
        response_body: None,
        error: error.map(str::to_owned),
    }
}

fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines().find(|line| line.starts_with(prefix)).unwrap_or_else(|| panic!("no line {prefix} in\n{text}"))
}

#[test]
fn every_series_is_there_from_startup_at_zero() {
    let gauges = Gauges {
        queue_depth: vec![("events", 0), ("deliveries", 0)],
        dead_letters: vec![("events", 0), ("deliveries", 0)],
        endpoints_disabled: Some(0),
    };
    let text = render(&Metrics::default(), &gauges);
    for expected in [
        "webhooks_events_accepted_total 0",
        "webhooks_deliveries_total{outcome=\"skipped\"} 0",
        "webhooks_delivery_attempts_total{status_class=\"timeout\"} 0",
        "webhooks_delivery_latency_seconds_bucket{le=\"+Inf\"} 0",
        "webhooks_delivery_latency_seconds_count 0",
        "webhooks_attempt_duration_seconds_sum 0",
        "webhooks_queue_depth{queue=\"deliveries\"} 0",
        "webhooks_dead_letters{queue=\"events\"} 0",
        "webhooks_endpoints_disabled 0",
    ] {
        assert!(text.lines().any(|line| line == expected), "{expected} missing from\n{text}");
    }
}

#[test]
fn attempts_count_by_outcome_and_status_class_and_time_their_latency() {
    let metrics = Metrics::default();
    metrics.events_accepted("acme", 3);
    metrics.delivery(&delivery("acme", DeliveryStatus::Delivered, 40), Some(&attempt(Some(204), None, 7)));
    metrics.delivery(&delivery("acme", DeliveryStatus::Pending, 0), Some(&attempt(None, Some(TIMEOUT_ERROR), 10_000)));
    metrics.delivery(&delivery("acme", DeliveryStatus::Failed, 0), Some(&attempt(Some(500), None, 3)));
    metrics.delivery(&delivery("acme", DeliveryStatus::Failed, 0), Some(&attempt(None, Some("connection failed"), 1)));
    metrics.delivery(&delivery("acme", DeliveryStatus::Failed, 0), None);
    metrics.skipped("acme");
    let text = render(&metrics, &Gauges::default());
    assert_eq!(line(&text, "webhooks_events_accepted_total "), "webhooks_events_accepted_total 3");
    for (outcome, count) in [("delivered", 1), ("retrying", 1), ("failed", 2), ("skipped", 2)] {
        let prefix = format!("webhooks_deliveries_total{{outcome=\"{outcome}\"}}");
        assert_eq!(line(&text, &prefix), format!("{prefix} {count}"));
    }
    for (class, count) in [("2xx", 1), ("3xx", 0), ("4xx", 0), ("5xx", 1), ("network", 1), ("timeout", 1)] {
        let prefix = format!("webhooks_delivery_attempts_total{{status_class=\"{class}\"}}");
        assert_eq!(line(&text, &prefix), format!("{prefix} {count}"));
    }
    // 40 ms: above the 0.025 bucket, within 0.05.
    assert!(text.contains("webhooks_delivery_latency_seconds_bucket{le=\"0.025\"} 0\n"), "{text}");
    assert!(text.contains("webhooks_delivery_latency_seconds_bucket{le=\"0.05\"} 1\n"), "{text}");
    assert!(text.contains("webhooks_delivery_latency_seconds_sum 0.04\n"), "{text}");
    // 10 s counts within le="10"; 1, 3 and 7 ms within 0.005 and 0.01.
    assert!(text.contains("webhooks_attempt_duration_seconds_bucket{le=\"0.005\"} 2\n"), "{text}");
    assert!(text.contains("webhooks_attempt_duration_seconds_bucket{le=\"0.01\"} 3\n"), "{text}");
    assert!(text.contains("webhooks_attempt_duration_seconds_bucket{le=\"5\"} 3\n"), "{text}");
    assert!(text.contains("webhooks_attempt_duration_seconds_bucket{le=\"10\"} 4\n"), "{text}");
    assert!(text.contains("webhooks_attempt_duration_seconds_count 4\n"), "{text}");
}

#[test]
fn tenant_labels_are_bounded_and_the_rest_counts_as_other() {
    let metrics = Metrics::new(2);
    for tenant in ["a", "b", "c", "d", "a"] {
        metrics.events_accepted(tenant, 1);
    }
    let text = render(&metrics, &Gauges::default());
    let accepted: Vec<&str> = text.lines().filter(|l| l.starts_with("webhooks_events_accepted_total")).collect();
    assert_eq!(
        accepted,
        [
            "webhooks_events_accepted_total{tenant=\"a\"} 2",
            "webhooks_events_accepted_total{tenant=\"b\"} 1",
            "webhooks_events_accepted_total{tenant=\"_other\"} 2",
        ]
    );
    assert!(text.contains("webhooks_deliveries_total{tenant=\"_other\",outcome=\"failed\"} 0\n"), "{text}");
    assert_eq!(metrics.totals().events_accepted, 5);
    // Without labels asked for: one unlabelled series, whatever the tenants.
    let unlabelled = Metrics::default();
    unlabelled.events_accepted("a", 1);
    assert!(render(&unlabelled, &Gauges::default()).contains("webhooks_events_accepted_total 1\n"));
    assert_eq!(Metrics::new(usize::MAX).tenant_labels, MAX_TENANT_LABELS);
}

#[test]
fn an_emf_line_reports_what_happened_since_the_last_one() {
    let metrics = Metrics::for_lambda();
    assert_eq!(metrics.emf_line("stack", 1), None, "nothing happened");
    metrics.delivery(&delivery("acme", DeliveryStatus::Delivered, 250), Some(&attempt(Some(200), None, 12)));
    metrics.endpoint_auto_disabled("acme");
    let first = metrics.emf_line("prod-webhooks", 1_700_000_000_123).expect("a line").0;
    assert_eq!(first["Stack"], "prod-webhooks");
    assert_eq!(first["DeliveriesDelivered"], 1);
    assert_eq!(first["Attempts2xx"], 1);
    assert_eq!(first["EndpointsAutoDisabled"], 1);
    assert_eq!(first["DeliveryLatency"], serde_json::json!([0.25]));
    assert_eq!(first["AttemptDuration"], serde_json::json!([0.012]));
    assert!(first.get("DeliveriesFailed").is_none(), "zeros are left out: {first}");
    let directive = &first["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(first["_aws"]["Timestamp"], 1_700_000_000_123u64);
    assert_eq!(directive["Namespace"], "Webhooks");
    assert_eq!(directive["Dimensions"], serde_json::json!([["Stack"]]));
    let names: Vec<&str> =
        directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["DeliveriesDelivered", "Attempts2xx", "EndpointsAutoDisabled", "DeliveryLatency", "AttemptDuration"]
    );
    // Every metric named in the directive is in the document, and is one the template knows.
    assert!(names.iter().all(|name| first.get(*name).is_some()));
    assert!(names.iter().all(|name| emf::metric_names().iter().any(|known| known == name)));

    metrics.events_accepted("acme", 2);
    let second = metrics.emf_line("prod-webhooks", 2).expect("a line").0;
    assert_eq!(second["EventsAccepted"], 2);
    assert!(second.get("DeliveriesDelivered").is_none(), "reported once: {second}");
    assert!(second.get("DeliveryLatency").is_none(), "reported once: {second}");
    assert_eq!(Metrics::default().emf_line("stack", 1), None, "not kept off Lambda");
}

#[test]
fn a_histogram_puts_a_value_on_its_bound_in_that_bucket() {
    let histogram = Histogram::new(&[0.1, 1.0]);
    histogram.observe(Duration::from_millis(100));
    histogram.observe(Duration::from_millis(1001));
    let values = histogram.values();
    assert_eq!(values.cumulative, vec![(0.1, 1), (1.0, 1), (f64::INFINITY, 2)]);
    assert_eq!(values.count, 2);
}
