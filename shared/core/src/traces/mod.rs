//! Traces: an event's way through the service as OpenTelemetry spans (API request, event
//! accepted, fan-out, each attempt), one trace per event, its context carried in the queue
//! messages as a W3C `traceparent`. This module is the model and the port ([`SpanSink`]);
//! an adapter exports what it is given (OTLP/HTTP, `webhooks-http`'s `otlp`). Off unless a
//! sink is set, and then nothing is measured or allocated: [`Tracer::off`] answers `None`
//! to every start.

mod context;

use std::sync::Arc;
use std::time::SystemTime;

pub use context::TraceContext;

/// What OpenTelemetry calls a span's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

/// An attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
    Bool(bool),
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Int(number)
    }
}

impl From<u16> for Value {
    fn from(number: u16) -> Self {
        Value::Int(i64::from(number))
    }
}

impl From<i32> for Value {
    fn from(number: i32) -> Self {
        Value::Int(i64::from(number))
    }
}

/// A finished span, as a sink gets it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanData {
    pub context: TraceContext,
    /// The span this one is a child of (in this process or across a queue).
    pub parent_span_id: Option<[u8; 8]>,
    pub name: String,
    pub kind: SpanKind,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(&'static str, Value)>,
    /// An error's description: the span's status is then Error.
    pub error: Option<String>,
}

/// Where finished spans go. MUST NOT block: an adapter buffers them and exports in the
/// background (or when told to flush), dropping what it cannot keep rather than slowing a
/// delivery.
pub trait SpanSink: Send + Sync {
    fn export(&self, span: SpanData);
}

/// A span being timed; [`Tracer::end`] sends it.
#[derive(Debug)]
pub struct Span {
    data: SpanData,
}

impl Span {
    /// Its context, for its children and for the messages it sends.
    pub fn context(&self) -> TraceContext {
        self.data.context
    }

    pub fn set(&mut self, key: &'static str, value: impl Into<Value>) {
        self.data.attributes.push((key, value.into()));
    }

    pub fn fail(&mut self, error: impl Into<String>) {
        self.data.error = Some(error.into());
    }
}

/// Starts spans and hands them to the sink when they end; cloned freely.
#[derive(Clone, Default)]
pub struct Tracer {
    sink: Option<Arc<dyn SpanSink>>,
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer").field("on", &self.sink.is_some()).finish()
    }
}

impl Tracer {
    /// No traces: every start answers `None`.
    pub fn off() -> Self {
        Self::default()
    }

    pub fn to(sink: Arc<dyn SpanSink>) -> Self {
        Self { sink: Some(sink) }
    }

    pub fn is_on(&self) -> bool {
        self.sink.is_some()
    }

    /// A span named `name`, the child of `parent` (a new trace without one); `None` when off.
    pub fn start(&self, name: impl Into<String>, kind: SpanKind, parent: Option<TraceContext>) -> Option<Span> {
        self.sink.as_ref()?;
        let context = match parent {
            Some(parent) => parent.child(),
            None => TraceContext::root(),
        };
        Some(Span {
            data: SpanData {
                context,
                parent_span_id: parent.map(|parent| parent.span_id),
                name: name.into(),
                kind,
                start: SystemTime::now(),
                end: SystemTime::UNIX_EPOCH,
                attributes: Vec::new(),
                error: None,
            },
        })
    }

    /// Ends `span` now and sends it.
    pub fn end(&self, span: Option<Span>) {
        if let (Some(sink), Some(mut span)) = (&self.sink, span) {
            span.data.end = SystemTime::now();
            sink.export(span.data);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Kept(Mutex<Vec<SpanData>>);

    impl SpanSink for Kept {
        fn export(&self, span: SpanData) {
            self.0.lock().unwrap().push(span);
        }
    }

    #[test]
    fn children_share_the_trace_and_name_their_parent() {
        let kept = Arc::new(Kept::default());
        let tracer = Tracer::to(kept.clone());
        let mut root = tracer.start("request", SpanKind::Server, None);
        let root_context = root.as_ref().unwrap().context();
        let child = tracer.start("accepted", SpanKind::Producer, Some(root_context));
        root.as_mut().unwrap().set("http.response.status_code", 202);
        tracer.end(child);
        tracer.end(root);
        let spans = kept.0.lock().unwrap();
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].context.trace_id, spans[1].context.trace_id);
        assert_eq!(spans[0].parent_span_id, Some(spans[1].context.span_id));
        assert_eq!(spans[1].parent_span_id, None);
        assert_ne!(spans[0].context.span_id, spans[1].context.span_id);
        assert!(spans[1].end >= spans[1].start);
        assert_eq!(spans[1].attributes, [("http.response.status_code", Value::Int(202))]);
    }

    #[test]
    fn off_starts_nothing() {
        assert!(Tracer::off().start("x", SpanKind::Internal, None).is_none());
    }
}
