//! The highest offered rate (one event per POST, fan-out 1) at which p99 event-to-arrival
//! latency stays under [`P99_GOAL_MS`]: rates doubled from 1,000 events/s until one misses
//! (p99 over the goal, or fewer deliveries a second than offered), then halved twice
//! between the last that held and the first that missed. Each probe is a short workload on
//! a fresh service.

use serde::Serialize;

use super::{Measured, Workload, measure};

/// The latency the search holds to.
pub const P99_GOAL_MS: f64 = 20.0;
/// The first rate tried, events/s.
const FIRST_RATE: f64 = 1000.0;
/// No rate past this is tried.
const MOST_RATE: f64 = 64_000.0;
/// Seconds of events each probe offers (fewer if `--events` is smaller).
const PROBE_SECONDS: f64 = 3.0;

/// One probe's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    pub offered_events_per_s: f64,
    pub deliveries_per_s: f64,
    pub p99_ms: f64,
    pub held: bool,
}

/// What the search found.
#[derive(Clone, Debug, Serialize)]
pub struct RateSearch {
    pub p99_goal_ms: f64,
    /// The highest rate tried that held; `None` if even the first missed.
    pub highest_events_per_s: Option<f64>,
    pub probes: Vec<Probe>,
}

/// Whether a probe's run kept up with its rate within the latency goal.
fn held(measured: &Measured, rate: f64) -> bool {
    let kept_up = measured.arrived == measured.expected && measured.deliveries_per_s >= 0.9 * rate;
    kept_up && measured.latency_ms.p99 <= P99_GOAL_MS
}

/// Runs the search; `events` bounds each probe's events; `progress` hears of each probe.
pub async fn highest_rate(events: usize, progress: &dyn Fn(&str)) -> Result<RateSearch, String> {
    let mut probes = Vec::new();
    let mut probe = async |rate: f64| -> Result<bool, String> {
        let name = format!("p99 under {P99_GOAL_MS} ms at {rate} events/s?");
        progress(&name);
        let workload = Workload {
            name,
            events: events.min((rate * PROBE_SECONDS) as usize).max(1),
            fan_out: 1,
            per_post: 1,
            rate: Some(rate),
        };
        let measured = measure(&workload, &|_| {}).await?;
        let held = held(&measured, rate);
        probes.push(Probe {
            offered_events_per_s: rate,
            deliveries_per_s: measured.deliveries_per_s,
            p99_ms: measured.latency_ms.p99,
            held,
        });
        Ok(held)
    };
    let (mut good, mut bad) = (None, None);
    let mut rate = FIRST_RATE;
    while rate <= MOST_RATE {
        if probe(rate).await? {
            good = Some(rate);
            rate *= 2.0;
        } else {
            bad = Some(rate);
            break;
        }
    }
    if let (Some(mut low), Some(mut high)) = (good, bad) {
        for _ in 0..2 {
            let middle = ((low + high) / 2.0).round();
            if probe(middle).await? {
                low = middle;
            } else {
                high = middle;
            }
        }
        good = Some(low);
    }
    Ok(RateSearch { p99_goal_ms: P99_GOAL_MS, highest_events_per_s: good, probes })
}
