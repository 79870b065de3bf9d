//! Accepting events: checked one by one (shape, type, the type's payload schema), then put
//! on the events queue for the dispatcher, all or none.

use super::ServiceError;
use super::event_types::TypeResolver;
use webhooks::events::intake::{IncomingEvent, MAX_EVENTS_PER_BATCH, MAX_PAYLOAD_BYTES, check_event};
use webhooks::events::store::EventTypeStore;
use webhooks::events::types::check_typed_payload;
use webhooks::ids::GeneratedEventId;
use webhooks::ports::Clock;
use webhooks::queues::Queue;
use webhooks::queues::messages::EventEnvelope;
use webhooks::traces::{SpanKind, TraceContext, Tracer};

/// Where accepted events go, and what decides which types they may have.
pub struct Intake<'a, Q, C, S> {
    pub events: &'a Q,
    pub clock: &'a C,
    /// The tenants' own event types.
    pub types: &'a S,
    /// Whether an event of a type the tenant does not have is accepted (the deployment's
    /// choice; refused by default).
    pub accept_unknown: bool,
    /// Counts the accepted events.
    pub metrics: &'a crate::metrics::Metrics,
    /// One "event accepted" span per event, when traces are on.
    pub tracer: &'a Tracer,
}

/// Accepts `incoming` for `tenant`, answering their ids (generated where absent) once the
/// queue holds them durably: an accepted event is never lost. Nothing is enqueued unless
/// every event is valid (its type known, its payload allowed by the type's schema); the
/// errors name `events[i].field` when `batch`.
/// `trace`: the request's span, which each event's span is a child of.
pub async fn accept<Q: Queue, C: Clock, S: EventTypeStore>(
    intake: &Intake<'_, Q, C, S>,
    tenant: &str,
    incoming: Vec<IncomingEvent>,
    batch: bool,
    trace: Option<TraceContext>,
) -> Result<Vec<String>, ServiceError> {
    let field_of = |i: usize| if batch { format!("events[{i}].") } else { String::new() };
    if incoming.is_empty() {
        return Err(ServiceError::invalid("events", "must hold at least one event"));
    }
    if incoming.len() > MAX_EVENTS_PER_BATCH {
        return Err(ServiceError::invalid("events", format!("at most {MAX_EVENTS_PER_BATCH} events per request")));
    }
    if let Some(i) = incoming.iter().position(IncomingEvent::payload_too_large) {
        return Err(ServiceError::PayloadTooLarge(format!(
            "{}payload is larger than {} KiB",
            field_of(i),
            MAX_PAYLOAD_BYTES / 1024
        )));
    }
    let mut errors = Vec::new();
    let types = TypeResolver::new(intake.types);
    for (i, event) in incoming.iter().enumerate() {
        let before = errors.len();
        check_event(event, &field_of(i), &mut errors);
        if errors.len() == before {
            let known = types.resolve(tenant, &event.event_type).await?;
            check_typed_payload(
                &known,
                intake.accept_unknown,
                &event.event_type,
                &event.payload,
                &field_of(i),
                &mut errors,
            );
        }
    }
    ServiceError::check(errors)?;
    let now = intake.clock.now();
    let mut ids = Vec::with_capacity(incoming.len());
    let mut bodies = Vec::with_capacity(incoming.len());
    let mut spans = Vec::new();
    for event in incoming {
        let id = event.id.unwrap_or_else(|| GeneratedEventId::generate(now).to_string());
        let mut span = intake.tracer.start("event accepted", SpanKind::Producer, trace);
        if let Some(span) = &mut span {
            span.set("webhooks.tenant", tenant);
            span.set("webhooks.event_id", id.as_str());
            span.set("webhooks.event_type", event.event_type.as_str());
        }
        let envelope = EventEnvelope {
            tenant: tenant.to_owned(),
            id: Some(id.clone()),
            event_type: event.event_type,
            entity_id: event.entity_id,
            payload: event.payload,
            received_at: Some(now),
            dispatched_from: None,
            traceparent: span.as_ref().map(|span| span.context().traceparent()),
        };
        bodies.push(envelope.message());
        ids.push(id);
        spans.push(span);
    }
    let sent = intake.events.send_batch(bodies).await;
    for mut span in spans {
        if let (Some(span), Err(error)) = (&mut span, &sent) {
            span.fail(error.to_string());
        }
        intake.tracer.end(span);
    }
    sent?;
    intake.metrics.events_accepted(tenant, ids.len() as u64);
    Ok(ids)
}
