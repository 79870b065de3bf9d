//! `webhooks serve`: the API, the dispatcher and the sender in one process, over one SQLite
//! file (here) or over DynamoDB and SQS (`--aws`, in `aws.rs`). The pollers behave like Lambda's SQS event
//! source mapping and call the handlers the Lambda functions call.

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use webhooks::deliveries::local_rate_counter::LocalRateCounter;
use webhooks::deliveries::rate_limit::RateCounter;
use webhooks::ports::{ErrorChain, SystemClock};
use webhooks::queues::dead_letters::DeadLetterQueues;
use webhooks::queues::definitions::Queues;
use webhooks::settings::Settings;
use webhooks::traces::Tracer;
use webhooks_api::metrics::metrics_only;
use webhooks_api::{App, Ports, router};
use webhooks_http::otlp::{OtlpExporter, OtlpSettings};
use webhooks_http::{Lookup, ReqwestSender, SystemLookup};
use webhooks_pipeline::{Dispatcher, Metrics, Sender};
use webhooks_sqlite::{SqliteDatabase, SqliteQueue, SqliteStore, run_retention};

use crate::admin_key::ensure_admin_key;
use crate::api_server::{self, Limits};
use crate::data_dir::{DATABASE_FILE, lock_data_dir};
use crate::event_source::{EventSourceSettings, run_event_source};

/// The embedded backends.
pub struct Embedded;

impl Ports for Embedded {
    type Store = SqliteStore;
    type Queue = SqliteQueue;
    type Http = ReqwestSender;
    type Clock = SystemClock;
}

#[derive(Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// What the service does, as every entry point reads it (flags and `WEBHOOKS_*`).
    pub settings: Settings,
    /// How the sender resolves host names (the system's resolver unless a test gives one).
    pub lookup: Arc<dyn Lookup>,
    /// A known admin key (scripts); otherwise one is minted on first start.
    pub admin_key: Option<String>,
    /// The API listener's header read timeout and connection limit.
    pub api_limits: Limits,
    /// Batches the sender handles at once.
    pub sender_concurrency: usize,
    /// Requests the sender keeps open to one endpoint at most.
    pub endpoint_concurrency: usize,
    /// Where `/metrics` is also served without a key (a private network's scraper).
    pub metrics_listen: Option<SocketAddr>,
    /// Tenants whose metrics get a `tenant` label (the first seen); 0: none.
    pub metrics_tenant_labels: usize,
    /// Where traces go (OTLP/HTTP), from the OpenTelemetry variables; none: no traces.
    pub traces: Option<OtlpSettings>,
}

impl ServeConfig {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            data_dir,
            settings: Settings::default(),
            lookup: Arc::new(SystemLookup),
            admin_key: None,
            api_limits: Limits::default(),
            sender_concurrency: 16,
            endpoint_concurrency: webhooks_pipeline::sender::in_flight::PER_ENDPOINT,
            metrics_listen: None,
            metrics_tenant_labels: 0,
            traces: None,
        }
    }
}

/// A running service.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` answers without a key, with `--metrics-listen`.
    pub metrics_addr: Option<SocketAddr>,
    /// The admin key minted on first start (shown once), if this start minted one.
    pub minted_admin_key: Option<String>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The embedded backend's hold on its data directory.
    _lock: Option<File>,
}

impl Running {
    /// Stops taking work, lets in-flight work finish, and returns when everything stopped.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts everything on the embedded backend and returns once the API listens (`--aws`:
/// `aws::start_aws`).
pub async fn start(config: ServeConfig) -> Result<Running, String> {
    let lock = lock_data_dir(&config.data_dir)?;
    let db = SqliteDatabase::open(&config.data_dir.join(DATABASE_FILE)).map_err(|e| ErrorChain(&e).to_string())?;
    let store = db.store();
    let queues = Queues::named(None, &config.settings.policy);
    let events = db.queue((&queues.events).into());
    let deliveries = db.queue((&queues.deliveries).into());
    // This process holds the lock: whatever a previous one had in hand is ours to redo.
    for queue in [&events, &deliveries] {
        let recovered = queue.recover_in_flight().await.map_err(|e| ErrorChain(&e).to_string())?;
        if recovered > 0 {
            tracing::info!(queue = queue.name(), recovered, "resuming messages left in flight");
        }
    }
    // The pipeline's steps after an accepted event commit without waiting for an fsync.
    let relaxed = db.relaxed();
    let pipeline = Pipeline::<Embedded> {
        store: relaxed.store(),
        events: relaxed.queue((&queues.events).into()),
        deliveries: relaxed.queue((&queues.deliveries).into()),
    };
    let backend = Backend::<Embedded> {
        store,
        events,
        deliveries,
        pipeline,
        dead_letters: DeadLetterQueues {
            events: db.queue((&queues.events_dlq).into()),
            deliveries: db.queue((&queues.deliveries_dlq).into()),
        },
        pruned: Some(db.clone()),
        subscription_cache: Duration::ZERO,
        poll_wait: Duration::from_secs(1),
    };
    // This process is the data directory's only sender: it counts rate limits alone.
    run_pipeline(backend, LocalRateCounter::default(), &config, Some(lock)).await
}

/// The store and queues of one backend, before the pipeline runs on them.
pub(crate) struct Backend<P: Ports> {
    pub store: P::Store,
    pub events: P::Queue,
    pub deliveries: P::Queue,
    pub dead_letters: DeadLetterQueues<P::Queue>,
    /// The database whose retention this process enforces (DynamoDB's TTL does it on AWS).
    pub pruned: Option<SqliteDatabase>,
    pub subscription_cache: Duration,
    /// The pollers' long-poll wait: SQS bills every receive, so AWS waits longer.
    pub poll_wait: Duration,
    /// What the dispatcher and the sender use.
    pub pipeline: Pipeline<P>,
}

/// The store and queues as the dispatcher and the sender use them: on SQLite the same
/// database, committing without waiting for an fsync ([`SqliteDatabase::relaxed`]); on AWS
/// the same clients as the API's.
pub(crate) struct Pipeline<P: Ports> {
    pub store: P::Store,
    pub events: P::Queue,
    pub deliveries: P::Queue,
}

/// The API, the dispatcher's and the sender's pollers over `backend`; the same handlers the
/// Lambda functions run.
/// `lock` is the embedded backend's hold on its data directory, kept while running.
pub(crate) async fn run_pipeline<P, R>(
    backend: Backend<P>,
    rates: R,
    config: &ServeConfig,
    lock: Option<File>,
) -> Result<Running, String>
where
    R: RateCounter,
    P: Ports<Http = ReqwestSender, Clock = SystemClock>,
    P::Queue: Clone,
    P::Store: Clone,
{
    let Backend { store, events, deliveries, dead_letters, pruned, subscription_cache, poll_wait, pipeline } = backend;
    let minted_admin_key = ensure_admin_key(&store, config.admin_key.clone()).await?;
    let http = ReqwestSender::with_lookup(config.settings.url_policy.clone(), config.lookup.clone());
    let metrics = Arc::new(Metrics::new(config.metrics_tenant_labels));
    let exporter = config.traces.clone().map(|settings| Arc::new(OtlpExporter::new(settings)));
    let tracer = exporter.clone().map_or_else(Tracer::off, |exporter| Tracer::to(exporter));
    let app = Arc::new(App::<P> {
        store: store.clone(),
        events: events.clone(),
        deliveries: deliveries.clone(),
        dead_letters: dead_letters.clone(),
        http: http.clone(),
        clock: SystemClock,
        settings: (&config.settings).into(),
        metrics: metrics.clone(),
        tracer: tracer.clone(),
    });
    let listener =
        TcpListener::bind(config.listen).await.map_err(|e| format!("listening on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| ErrorChain(&e).to_string())?;
    let metrics_listener = match config.metrics_listen {
        Some(at) => Some(TcpListener::bind(at).await.map_err(|e| format!("--metrics-listen {at}: {e}"))?),
        None => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(TcpListener::local_addr).transpose().map_err(|e| e.to_string())?;
    let (shutdown, watching) = watch::channel(false);

    let mut tasks = Vec::new();
    if let Some(db) = pruned {
        tasks.push(tokio::spawn(run_retention(db, config.settings.retention, watching.clone())));
    }
    let (api_limits, api_shutdown) = (config.api_limits, watching.clone());
    if let Some(listener) = metrics_listener {
        tasks.push(tokio::spawn(api_server::serve(listener, metrics_only(app.clone()), api_limits, watching.clone())));
    }
    tasks.push(tokio::spawn(api_server::serve(listener, router(app), api_limits, api_shutdown)));

    let dispatcher = Arc::new(
        Dispatcher::new(pipeline.store.clone(), pipeline.deliveries.clone(), dead_letters.events, subscription_cache)
            .accepting_unknown_types(config.settings.accept_unknown_event_types)
            .with_tracer(tracer.clone()),
    );
    let dispatch_settings =
        EventSourceSettings { batch_size: 10, concurrency: 4, wait: poll_wait, one_at_a_time: false };
    tasks.push(tokio::spawn(run_event_source(
        Arc::new(pipeline.events.clone()),
        dispatch_settings,
        move |batch| {
            let dispatcher = dispatcher.clone();
            async move { dispatcher.handle_batch(batch).await }
        },
        watching.clone(),
    )));

    let sender = Arc::new(
        Sender::new(pipeline.store, pipeline.deliveries.clone(), http, SystemClock, config.settings.policy.clone())
            .with_rate_counter(rates)
            .with_endpoint_concurrency(config.endpoint_concurrency)
            .with_dead_letters(dead_letters.deliveries)
            .with_metrics(metrics)
            .with_tracer(tracer)
            .with_operator_alerts(pipeline.events, config.settings.delivery_failing_after)
            .with_history(config.settings.history)
            .flushing_stats_by_caller(),
    );
    if let Some(exporter) = exporter {
        let watching = watching.clone();
        tasks.push(tokio::spawn(async move {
            let flushing = exporter.clone();
            every(TRACES_FLUSH_INTERVAL, watching, move || {
                let exporter = flushing.clone();
                async move { exporter.flush().await }
            })
            .await;
            exporter.flush().await;
        }));
    }
    let flusher = sender.clone();
    tasks.push(tokio::spawn(every(STATS_FLUSH_INTERVAL, watching.clone(), move || {
        let flusher = flusher.clone();
        async move { flusher.flush_stats().await }
    })));
    let send_settings = EventSourceSettings {
        batch_size: 10,
        concurrency: config.sender_concurrency,
        wait: poll_wait,
        // A slow receiver must hold its own message's slot only.
        one_at_a_time: true,
    };
    let last_flush = sender.clone();
    tasks.push(tokio::spawn(async move {
        let handler = move |batch| {
            let sender = sender.clone();
            async move { sender.handle_batch(batch).await }
        };
        run_event_source(Arc::new(pipeline.deliveries), send_settings, handler, watching).await;
        // The counts of the last deliveries handled.
        last_flush.flush_stats().await;
    }));

    Ok(Running { addr, metrics_addr, minted_admin_key, shutdown, tasks, _lock: lock })
}

/// How often `serve` exports the spans it recorded.
const TRACES_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// How often `serve` writes the delivery counts it added up (one write per endpoint).
const STATS_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Runs `work` every `interval` until `shutdown`.
async fn every<Fut: Future<Output = ()> + Send>(
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
    work: impl Fn() -> Fut + Send,
) {
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(interval) => false,
            _ = shutdown.wait_for(|stop| *stop) => true,
        };
        if stopping {
            return;
        }
        work().await;
    }
}
