//! The OTLP/HTTP exporter of traces (protobuf, the OpenTelemetry SDKs' default): the
//! [`SpanSink`] the service uses when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. Spans wait in memory (at most
//! [`MAX_BUFFERED`]; more are dropped and counted in the log) until [`OtlpExporter::flush`]
//! sends them as one `ExportTraceServiceRequest`: `serve` flushes every second, a Lambda
//! function after each invocation. The collector is the operator's, so the URL policy for
//! receivers does not apply to it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use webhooks::traces::{SpanData, SpanKind, SpanSink, Value};

/// Spans kept between two flushes.
pub const MAX_BUFFERED: usize = 10_000;

/// What a collector may take to answer an export.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how traces go, from the OpenTelemetry SDK's standard variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpSettings {
    /// The full URL, e.g. `http://collector:4318/v1/traces`.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub service_name: String,
}

impl OtlpSettings {
    /// From `lookup` (the environment): `None` when no endpoint is set or
    /// `OTEL_SDK_DISABLED=true`. Only `http/protobuf` is spoken: another
    /// `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` is an error, not a silent fallback.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, default_service: &str) -> Result<Option<Self>, String> {
        let set = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let Some(protocol) = set(name).filter(|p| p != "http/protobuf") {
                return Err(format!("{name}={protocol}: only http/protobuf is supported"));
            }
        }
        let url = match (set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), set("OTEL_EXPORTER_OTLP_ENDPOINT")) {
            (Some(url), _) => url,
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("the OTLP endpoint {url:?} is not an http:// or https:// URL"));
        }
        let mut headers = Vec::new();
        for pair in set("OTEL_EXPORTER_OTLP_HEADERS").iter().flat_map(|h| h.split(',')) {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                "OTEL_EXPORTER_OTLP_HEADERS: each header is name=value, separated by commas".to_owned()
            })?;
            headers.push((name.trim().to_owned(), percent_decode(value.trim())));
        }
        let service_name = set("OTEL_SERVICE_NAME").unwrap_or_else(|| default_service.to_owned());
        Ok(Some(Self { url, headers, service_name }))
    }
}

/// `%20` and the like, as the variable's spec allows in header values.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or(""), 16).ok())
            .flatten();
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The sink and its exporter.
pub struct OtlpExporter {
    settings: OtlpSettings,
    client: reqwest::Client,
    buffer: Mutex<Vec<SpanData>>,
    dropped: AtomicU64,
}

impl SpanSink for OtlpExporter {
    fn export(&self, span: SpanData) {
        let mut buffer = self.buffer.lock().expect("not poisoned");
        if buffer.len() < MAX_BUFFERED {
            buffer.push(span);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl OtlpExporter {
    pub fn new(settings: OtlpSettings) -> Self {
        let client = reqwest::Client::builder().timeout(EXPORT_TIMEOUT).build().expect("a client without options");
        Self { settings, client, buffer: Mutex::default(), dropped: AtomicU64::new(0) }
    }

    /// Sends every span buffered so far; a failed export is logged and its spans dropped.
    pub async fn flush(&self) {
        let spans = std::mem::take(&mut *self.buffer.lock().expect("not poisoned"));
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(dropped, "spans dropped: more than {MAX_BUFFERED} waited for an export");
        }
        if spans.is_empty() {
            return;
        }
        let body = encode_request(&self.settings.service_name, &spans);
        let mut request = self
            .client
            .post(&self.settings.url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
            .body(body);
        for (name, value) in &self.settings.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.send().await {
            Ok(answer) if answer.status().is_success() => {}
            Ok(answer) => tracing::warn!(status = answer.status().as_u16(), spans = spans.len(), "OTLP export refused"),
            Err(error) => tracing::warn!(%error, spans = spans.len(), "OTLP export failed"),
        }
    }
}

// --- Protocol Buffers, by hand: the few messages of opentelemetry/proto/trace/v1 used here.

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    varint(out, (u64::from(field) << 3) | u64::from(wire_type));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    tag(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn message(out: &mut Vec<u8>, field: u32, write: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    write(&mut inner);
    bytes_field(out, field, &inner);
}

fn fixed64(out: &mut Vec<u8>, field: u32, value: u64) {
    tag(out, field, 1);
    out.extend_from_slice(&value.to_le_bytes());
}

fn key_value(out: &mut Vec<u8>, field: u32, key: &str, value: &Value) {
    message(out, field, |kv| {
        bytes_field(kv, 1, key.as_bytes());
        message(kv, 2, |any| match value {
            Value::Text(text) => bytes_field(any, 1, text.as_bytes()),
            Value::Bool(flag) => {
                tag(any, 2, 0);
                varint(any, u64::from(*flag));
            }
            Value::Int(number) => {
                tag(any, 3, 0);
                varint(any, *number as u64);
            }
        });
    });
}

fn nanos(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn kind(kind: SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// An `ExportTraceServiceRequest` of one resource (this service) and one scope.
pub fn encode_request(service_name: &str, spans: &[SpanData]) -> Vec<u8> {
    let mut out = Vec::new();
    message(&mut out, 1, |resource_spans| {
        message(resource_spans, 1, |resource| {
            key_value(resource, 1, "service.name", &Value::Text(service_name.to_owned()));
        });
        message(resource_spans, 2, |scope_spans| {
            message(scope_spans, 1, |scope| {
                bytes_field(scope, 1, b"webhooks");
                bytes_field(scope, 2, env!("CARGO_PKG_VERSION").as_bytes());
            });
            for span in spans {
                message(scope_spans, 2, |out| encode_span(out, span));
            }
        });
    });
    out
}

fn encode_span(out: &mut Vec<u8>, span: &SpanData) {
    bytes_field(out, 1, &span.context.trace_id);
    bytes_field(out, 2, &span.context.span_id);
    if let Some(parent) = span.parent_span_id {
        bytes_field(out, 4, &parent);
    }
    bytes_field(out, 5, span.name.as_bytes());
    tag(out, 6, 0);
    varint(out, kind(span.kind));
    fixed64(out, 7, nanos(span.start));
    fixed64(out, 8, nanos(span.end));
    for (key, value) in &span.attributes {
        key_value(out, 9, key, value);
    }
    if let Some(error) = &span.error {
        message(out, 15, |status| {
            bytes_field(status, 2, error.as_bytes());
            tag(status, 3, 0);
            varint(status, 2); // STATUS_CODE_ERROR
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn settings_follow_the_sdk_variables() {
        assert_eq!(OtlpSettings::from_lookup(lookup(&[]), "webhooks"), Ok(None), "off by default");
        let base = OtlpSettings::from_lookup(
            lookup(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc, x-team=ops"),
                ("OTEL_SERVICE_NAME", "hooks"),
            ]),
            "webhooks",
        )
        .unwrap()
        .unwrap();
        assert_eq!(base.url, "http://collector:4318/v1/traces");
        assert_eq!(base.headers, [("authorization".into(), "Bearer abc".into()), ("x-team".into(), "ops".into())]);
        assert_eq!(base.service_name, "hooks");
        let traces = OtlpSettings::from_lookup(
            lookup(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b/t"),
            ]),
            "webhooks",
        );
        assert_eq!(traces.unwrap().unwrap().url, "http://b/t", "the traces endpoint is used as it is");
        let grpc = lookup(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
        assert!(OtlpSettings::from_lookup(grpc, "webhooks").unwrap_err().contains("http/protobuf"));
        let disabled = lookup(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a"), ("OTEL_SDK_DISABLED", "true")]);
        assert_eq!(OtlpSettings::from_lookup(disabled, "webhooks"), Ok(None));
    }

    #[test]
    fn varints_are_little_endian_groups_of_seven_bits() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }
}
