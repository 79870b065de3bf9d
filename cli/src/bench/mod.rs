//! `webhooks bench`: the embedded service end to end, measured. Each workload starts a fresh
//! service (its own SQLite file) in this process, a receiver on a thread of its own
//! (`receiver.rs`), and a load generator on another, and reports deliveries per second,
//! event-to-arrival latency, the service's CPU time per 1,000 deliveries (the receiver's and
//! the load generator's measured apart and left out) and the peak memory. Figures come from
//! here, never from timed tests.

mod receiver;
mod search;
mod usage;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use self::receiver::BenchReceiver;
use self::usage::{peak_rss_mib, process_cpu, reset_peak_rss, thread_cpu};
use crate::serve::{ServeConfig, start};

pub use self::search::{P99_GOAL_MS, RateSearch, highest_rate};

/// Requests the load generator keeps open at once when it goes flat out.
const IN_FLIGHT_POSTS: usize = 16;
/// How long a workload may go without a new arrival before it is called stuck.
const STALL: Duration = Duration::from_secs(30);
/// The admin key of the benchmark's throwaway services.
const BENCH_KEY: &str = "whk_bench_admin_key_0123456789abcdef";

/// One measured run.
#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    pub events: usize,
    pub fan_out: u16,
    pub per_post: usize,
    /// Events per second offered; `None`: as fast as the service takes them.
    pub rate: Option<f64>,
}

/// Endpoints of the widest fan-out: as many as one tenant may be allowed
/// (`MAX_MAX_ENDPOINTS`).
const WIDEST_FAN_OUT: usize = 10_000;
/// Endpoint creations in flight at once while a workload is set up.
const IN_FLIGHT_CREATES: usize = 16;

/// The default set for `events` events (the fan-out 10 run sends a tenth as many, for as
/// many deliveries): flat out at fan-out 1 and 10, 100 events per POST and one per POST,
/// then one per POST at fixed rates (at most 10 s of each), then one event to half as many
/// endpoints as `events` (10,000 at most: the default's).
pub fn workloads(events: usize) -> Vec<Workload> {
    let flat = |name: &str, events: usize, fan_out: u16, per_post: usize| Workload {
        name: name.to_owned(),
        events: events.max(1),
        fan_out,
        per_post,
        rate: None,
    };
    let mut all = vec![
        flat("fan-out 1, 100 per POST", events, 1, 100),
        flat("fan-out 1, 1 per POST", events, 1, 1),
        flat("fan-out 10, 100 per POST", events / 10, 10, 100),
    ];
    for rate in [200.0, 500.0, 2000.0] {
        all.push(Workload {
            name: format!("{rate} events/s, 1 per POST"),
            events: events.min((rate * 10.0) as usize).max(1),
            fan_out: 1,
            per_post: 1,
            rate: Some(rate),
        });
    }
    let widest = (events / 2).clamp(1, WIDEST_FAN_OUT);
    all.push(Workload {
        name: format!("1 event to {widest} endpoints"),
        events: 1,
        fan_out: u16::try_from(widest).unwrap_or(u16::MAX),
        per_post: 1,
        rate: None,
    });
    all
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// What one workload measured.
#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    pub workload: String,
    pub events: usize,
    pub fan_out: u16,
    pub events_per_post: usize,
    pub offered_events_per_s: Option<f64>,
    pub accepted_events_per_s: f64,
    /// From the first POST to the last arrival.
    pub deliveries_per_s: f64,
    pub expected: usize,
    pub arrived: usize,
    pub duplicates: usize,
    /// From the POST that carried the event to the delivery's arrival, milliseconds.
    pub latency_ms: Latency,
    pub cpu_s_per_1000_deliveries: f64,
    pub receiver_cpu_s: f64,
    pub peak_rss_mib: f64,
}

/// What the load generator did.
struct Sent {
    /// When the POST carrying event `n` started.
    sent_at: Vec<Instant>,
    first: Instant,
    last_accepted: Instant,
    cpu: Duration,
}

fn post_body(numbers: std::ops::Range<usize>) -> serde_json::Value {
    let events: Vec<_> = numbers.map(|n| json!({"type": "run.failed", "payload": {"n": n}})).collect();
    if events.len() == 1 { events.into_iter().next().unwrap_or_default() } else { json!({"events": events}) }
}

/// Posts the workload's events from a thread and runtime of its own.
fn generate(api: String, workload: Workload) -> std::thread::JoinHandle<Result<Sent, String>> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let sent = runtime.block_on(post_all(&api, &workload))?;
        Ok(Sent { cpu: thread_cpu(), ..sent })
    })
}

async fn post_all(api: &str, workload: &Workload) -> Result<Sent, String> {
    let client = reqwest::Client::new();
    let url = format!("{api}/v1/events");
    let posts: Vec<std::ops::Range<usize>> = (0..workload.events)
        .step_by(workload.per_post)
        .map(|start| start..(start + workload.per_post).min(workload.events))
        .collect();
    let first = Instant::now();
    let in_flight = if workload.rate.is_some() { posts.len().max(1) } else { IN_FLIGHT_POSTS };
    let sent_at = Arc::new(std::sync::Mutex::new(vec![first; workload.events]));
    let requests = posts.into_iter().enumerate().map(|(i, numbers)| {
        let (client, url, sent_at) = (client.clone(), url.clone(), sent_at.clone());
        let due = workload.rate.map(|rate| first + Duration::from_secs_f64(i as f64 / rate));
        async move {
            if let Some(due) = due {
                tokio::time::sleep_until(due.into()).await;
            }
            let at = Instant::now();
            sent_at.lock().expect("not poisoned")[numbers.clone()].fill(at);
            let body = post_body(numbers).to_string();
            let answer = client
                .post(&url)
                .bearer_auth(BENCH_KEY)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await;
            match answer {
                Ok(answer) if answer.status().as_u16() == 202 => Ok(()),
                Ok(answer) => Err(format!("POST /v1/events answered {}", answer.status())),
                Err(error) => Err(format!("POST /v1/events: {error}")),
            }
        }
    });
    use futures_util::StreamExt;
    let mut answers = futures_util::stream::iter(requests).buffer_unordered(in_flight);
    while let Some(answer) = answers.next().await {
        answer?;
    }
    let last_accepted = Instant::now();
    let sent_at = std::mem::take(&mut *sent_at.lock().expect("not poisoned"));
    Ok(Sent { sent_at, first, last_accepted, cpu: Duration::ZERO })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn scratch_dir() -> PathBuf {
    let unique = format!("webhooks-bench-{}-{}", std::process::id(), Instant::now().elapsed().as_nanos());
    std::env::temp_dir().join(format!("{unique}-{}", COUNTER.fetch_add(1, Ordering::Relaxed)))
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Runs one workload on a fresh service; `progress` hears how many deliveries arrived.
pub async fn measure(workload: &Workload, progress: &dyn Fn(u64)) -> Result<Measured, String> {
    let dir = scratch_dir();
    let mut config = ServeConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), dir.clone());
    config.settings.url_policy.allow_insecure_local = true;
    config.admin_key = Some(BENCH_KEY.to_owned());
    config.settings.max_endpoints = config.settings.max_endpoints.max(usize::from(workload.fan_out));
    let running = start(config).await?;
    let api = format!("http://{}", running.addr);
    let outcome = measure_on(&api, workload, progress).await;
    running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

/// The workload's endpoints, one per receiver path, each subscribed to the events sent.
async fn create_endpoints(api: &str, receiver: &BenchReceiver, count: u16) -> Result<(), String> {
    use futures_util::StreamExt;
    let client = reqwest::Client::new();
    let creations = (0..count).map(|k| {
        let body = json!({"url": receiver.url(k), "events": ["run.failed"]}).to_string();
        let request = client
            .post(format!("{api}/v1/webhooks"))
            .bearer_auth(BENCH_KEY)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send();
        async move {
            match request.await {
                Ok(answer) if answer.status().as_u16() == 201 => Ok(()),
                created => Err(format!("creating the benchmark's endpoint: {created:?}")),
            }
        }
    });
    let mut created = futures_util::stream::iter(creations).buffer_unordered(IN_FLIGHT_CREATES);
    while let Some(outcome) = created.next().await {
        outcome?;
    }
    Ok(())
}

async fn measure_on(api: &str, workload: &Workload, progress: &dyn Fn(u64)) -> Result<Measured, String> {
    let receiver = BenchReceiver::start()?;
    create_endpoints(api, &receiver, workload.fan_out).await?;
    // The peak of the run, not of its setup.
    reset_peak_rss();
    let expected = workload.events * usize::from(workload.fan_out);
    let cpu_before = process_cpu();
    let generator = generate(api.to_owned(), workload.clone());
    let (mut seen, mut last_change) = (0, Instant::now());
    while seen < expected && last_change.elapsed() < STALL {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = receiver.arrived();
        if now != seen {
            (seen, last_change) = (now, Instant::now());
            progress(now as u64);
        }
    }
    let sent = generator.join().map_err(|_| "the load generator panicked".to_owned())??;
    let cpu_total = process_cpu().saturating_sub(cpu_before);
    let (arrivals, receiver_cpu) = receiver.finish();

    let mut unique = std::collections::HashSet::new();
    let mut latencies: Vec<f64> = Vec::with_capacity(arrivals.len());
    let mut last_arrival = sent.first;
    for (n, k, at) in &arrivals {
        if unique.insert((*n, *k))
            && let Some(sent_at) = sent.sent_at.get(*n as usize)
        {
            latencies.push(at.saturating_duration_since(*sent_at).as_secs_f64() * 1000.0);
            last_arrival = last_arrival.max(*at);
        }
    }
    latencies.sort_by(f64::total_cmp);
    let arrived = unique.len();
    let service_cpu = cpu_total.saturating_sub(receiver_cpu).saturating_sub(sent.cpu);
    let per_second = |count: usize, since: Instant, until: Instant| {
        count as f64 / until.saturating_duration_since(since).as_secs_f64().max(1e-9)
    };
    Ok(Measured {
        workload: workload.name.clone(),
        events: workload.events,
        fan_out: workload.fan_out,
        events_per_post: workload.per_post,
        offered_events_per_s: workload.rate,
        accepted_events_per_s: per_second(workload.events, sent.first, sent.last_accepted),
        deliveries_per_s: per_second(arrived, sent.first, last_arrival),
        expected,
        arrived,
        duplicates: arrivals.len() - arrived,
        latency_ms: Latency {
            p50: percentile(&latencies, 50.0),
            p90: percentile(&latencies, 90.0),
            p99: percentile(&latencies, 99.0),
            max: latencies.last().copied().unwrap_or(0.0),
        },
        cpu_s_per_1000_deliveries: service_cpu.as_secs_f64() * 1000.0 / arrived.max(1) as f64,
        receiver_cpu_s: receiver_cpu.as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
    })
}

/// The results as a table, for people.
pub fn table(results: &[Measured]) -> String {
    let mut out = format!(
        "{:<28} {:>8} {:>11} {:>12} {:>9} {:>8} {:>8} {:>8} {:>10} {:>8}\n",
        "workload",
        "events",
        "accepted/s",
        "deliveries/s",
        "arrived",
        "p50 ms",
        "p99 ms",
        "max ms",
        "CPU-s/1k",
        "RSS MiB"
    );
    for m in results {
        out.push_str(&format!(
            "{:<28} {:>8} {:>11.0} {:>12.0} {:>9} {:>8.1} {:>8.1} {:>8.1} {:>10.3} {:>8.1}\n",
            m.workload,
            m.events,
            m.accepted_events_per_s,
            m.deliveries_per_s,
            format!("{}/{}", m.arrived, m.expected),
            m.latency_ms.p50,
            m.latency_ms.p99,
            m.latency_ms.max,
            m.cpu_s_per_1000_deliveries,
            m.peak_rss_mib
        ));
    }
    out
}

/// The machine the figures come from.
pub fn machine() -> serde_json::Value {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|info| {
        info.lines()
            .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned()))
    });
    json!({"cpus": cpus, "cpu": model, "os": std::env::consts::OS, "arch": std::env::consts::ARCH})
}
