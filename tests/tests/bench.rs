//! `webhooks bench` at a tiny size: it runs every workload to the end (the widest fan-out
//! too), each delivery arriving once, searches for the highest rate within the latency goal, and `--json` prints one
//! JSON document on stdout and nothing else. (Its figures are
//! for `docs/performance.md`, never asserted here.)

use std::process::Command;

use serde_json::Value;
use webhooks_tests::binary_path;

#[test]
fn every_workload_delivers_everything_once_and_json_is_the_only_output() {
    let output = Command::new(binary_path()).args(["bench", "--events", "20", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(report["command"], "webhooks bench --events 20");
    assert!(report["machine"]["cpus"].as_u64().unwrap() >= 1);
    let workloads = report["workloads"].as_array().unwrap();
    let names: Vec<&str> = workloads.iter().map(|w| w["workload"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "fan-out 1, 100 per POST",
            "fan-out 1, 1 per POST",
            "fan-out 10, 100 per POST",
            "200 events/s, 1 per POST",
            "500 events/s, 1 per POST",
            "2000 events/s, 1 per POST",
            "1 event to 10 endpoints"
        ]
    );
    for workload in workloads {
        assert_eq!(workload["arrived"], workload["expected"], "{workload}");
        assert_eq!(workload["duplicates"], 0, "{workload}");
        assert!(workload["expected"].as_u64().unwrap() >= 10, "{workload}");
        for figure in ["accepted_events_per_s", "deliveries_per_s", "peak_rss_mib"] {
            assert!(workload[figure].as_f64().unwrap() > 0.0, "{figure}: {workload}");
        }
        let latency = &workload["latency_ms"];
        assert!(latency["p50"].as_f64().unwrap() <= latency["p99"].as_f64().unwrap(), "{workload}");
        assert!(latency["p99"].as_f64().unwrap() <= latency["max"].as_f64().unwrap(), "{workload}");
        assert!(workload["cpu_s_per_1000_deliveries"].as_f64().unwrap() >= 0.0);
    }
    assert_eq!(workloads[2]["fan_out"], 10);
    assert_eq!(workloads[2]["events"], 2, "a tenth of the events, as many deliveries");
    assert_eq!(workloads[3]["offered_events_per_s"], 200.0);
    assert_eq!(workloads[6]["events"], 1, "one event to half as many endpoints as --events");
    assert_eq!(workloads[6]["expected"], 10);

    // The search for the highest rate within the latency goal: rates doubled from 1,000
    // until one misses, then narrowed between the last that held and the first that missed.
    let search = &report["highest_rate"];
    assert_eq!(search["p99_goal_ms"], 20.0);
    let probes = search["probes"].as_array().unwrap();
    assert_eq!(probes[0]["offered_events_per_s"], 1000.0);
    let held: Vec<f64> =
        probes.iter().filter(|p| p["held"] == true).map(|p| p["offered_events_per_s"].as_f64().unwrap()).collect();
    let highest = held.iter().copied().fold(None, |most: Option<f64>, rate| Some(most.map_or(rate, |m| m.max(rate))));
    assert_eq!(search["highest_events_per_s"].as_f64(), highest, "{search}");
    for probe in probes {
        let within = probe["p99_ms"].as_f64().unwrap() <= 20.0;
        assert!(probe["held"] == false || within, "a probe that held is within the goal: {probe}");
    }
}

#[test]
fn a_bad_size_is_a_usage_error() {
    let output = Command::new(binary_path()).args(["bench", "--events", "5"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}
