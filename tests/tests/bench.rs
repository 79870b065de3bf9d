//! `webhooks bench` at a tiny size: it runs every workload to the end, each delivery arriving
//! once, and `--json` prints one JSON document on stdout and nothing else. (Its figures are
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
            "2000 events/s, 1 per POST"
        ]
    );
    for workload in workloads {
        assert_eq!(workload["arrived"], workload["expected"], "{workload}");
        assert_eq!(workload["duplicates"], 0, "{workload}");
        assert!(workload["expected"].as_u64().unwrap() >= 20, "{workload}");
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
}

#[test]
fn a_bad_size_is_a_usage_error() {
    let output = Command::new(binary_path()).args(["bench", "--events", "5"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}
