//! What the three Lambda functions share: JSON logs, metrics as EMF lines in them, and the
//! SQS event source's side of the dispatcher and the sender (records in, a partial batch
//! response out), so that both handlers stay plain `handle_batch` functions over the ports.

use std::future::Future;
use std::sync::Arc;

pub use aws_lambda_events;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;
use webhooks::queues::ReceivedMessage;
use webhooks::time::Timestamp;
use webhooks::traces::Tracer;
use webhooks_http::otlp::{OtlpExporter, OtlpSettings};
use webhooks_pipeline::Metrics;

/// JSON lines on stdout (CloudWatch Logs), filtered by `env::LOG_FILTER` (default info).
pub fn init_json_logs() {
    tracing::subscriber::set_global_default(json_logs(std::io::stdout)).expect("logging is set up once");
}

/// The functions' log format: one JSON object a line. Secrets and keys are never fields of
/// any event: `Secret`'s Debug is redacted and keys are not logged.
pub fn json_logs<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env(webhooks_aws::env::LOG_FILTER)
                .unwrap_or_else(|_| "info".into()),
        )
        // Each line carries the span it was logged in: the delivery or event it is about.
        .with_current_span(true)
        .with_span_list(false)
        .without_time() // CloudWatch stamps every line itself.
        .with_writer(writer)
        .finish()
}

/// The function's metrics and traces. The metrics are written as one CloudWatch EMF line
/// after each batch or request that changed them (`webhooks_pipeline::metrics`): no API
/// call, and the template's alarms read them. The traces, when `OTEL_EXPORTER_OTLP_ENDPOINT`
/// is set, are exported (OTLP/HTTP) at the end of each invocation, before Lambda freezes the
/// environment.
#[derive(Clone)]
pub struct Telemetry {
    pub metrics: Arc<Metrics>,
    pub tracer: Tracer,
    exporter: Option<Arc<OtlpExporter>>,
    /// The stack's name (its table's), the metrics' one dimension.
    stack: Arc<str>,
}

impl Telemetry {
    /// For the stack `stack`; its traces named `service` unless `OTEL_SERVICE_NAME` says
    /// otherwise. A bad OpenTelemetry setting is an error at start, as any other.
    pub fn from_env(stack: &str, service: &str) -> Result<Self, String> {
        let traces = OtlpSettings::from_lookup(|name| std::env::var(name).ok(), service)?;
        let exporter = traces.map(|settings| Arc::new(OtlpExporter::new(settings)));
        let tracer = exporter.clone().map_or_else(Tracer::off, |exporter| Tracer::to(exporter));
        Ok(Self { metrics: Arc::new(Metrics::for_lambda()), tracer, exporter, stack: stack.into() })
    }

    /// Prints what changed since the last line, if anything did, and exports the spans.
    pub async fn report(&self) {
        if let Some(line) = self.metrics.emf_line(&self.stack, Timestamp::now().as_millis().max(0) as u64) {
            println!("{line}");
        }
        if let Some(exporter) = &self.exporter {
            exporter.flush().await;
        }
    }

    /// `handled`, then the report.
    pub async fn after<T>(&self, handled: impl Future<Output = T>) -> T {
        let answer = handled.await;
        self.report().await;
        answer
    }

    /// `router`, reporting after each request.
    pub fn around(&self, router: axum::Router) -> axum::Router {
        let report = self.clone();
        router.layer(axum::middleware::from_fn(move |request, next: axum::middleware::Next| {
            let report = report.clone();
            async move { report.after(next.run(request)).await }
        }))
    }
}

/// A record as the ports see it. Lambda's records carry the receive count and send time as
/// attributes; a record without a body gets an empty one, which the handlers refuse (and the
/// message ends in its DLQ, never silently dropped).
pub fn received_message(record: SqsMessage) -> ReceivedMessage {
    fn attribute<T: std::str::FromStr>(record: &SqsMessage, name: &str) -> Option<T> {
        record.attributes.get(name).and_then(|value| value.parse().ok())
    }
    ReceivedMessage {
        receive_count: attribute(&record, "ApproximateReceiveCount").unwrap_or(1),
        sent_at: attribute(&record, "SentTimestamp").map_or_else(Timestamp::now, Timestamp::from_millis),
        message_id: record.message_id.unwrap_or_default(),
        receipt: record.receipt_handle.unwrap_or_default(),
        reason: record.message_attributes.get(webhooks_aws::sqs::REASON_ATTRIBUTE).and_then(|a| a.string_value.clone()),
        body: record.body.unwrap_or_default(),
    }
}

/// Lambda's partial batch response: the failed messages stay on the queue.
pub fn batch_response(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|item_identifier| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = item_identifier;
            failure
        })
        .collect();
    response
}

/// Whether the event's records come from the queue at `queue_url`: an event source mapping
/// gives one function the records of one queue per invocation, and names it in every record
/// (`arn:aws:sqs:{region}:{account}:{name}`, the URL ending `/{name}`).
pub fn is_from_queue(event: &LambdaEvent<SqsEvent>, queue_url: &str) -> bool {
    let name = queue_url.rsplit('/').next().unwrap_or_default();
    let source = event.payload.records.first().and_then(|record| record.event_source_arn.as_deref());
    source.and_then(|arn| arn.rsplit(':').next()).is_some_and(|source| source == name)
}

/// Runs `handle_batch` (which answers the failed message ids) on an SQS event.
pub async fn handle_sqs_event<H, Fut>(
    event: LambdaEvent<SqsEvent>,
    handle_batch: H,
) -> Result<SqsBatchResponse, lambda_runtime::Error>
where
    H: FnOnce(Vec<ReceivedMessage>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let messages = event.payload.records.into_iter().map(received_message).collect();
    Ok(batch_response(handle_batch(messages).await))
}
