//! The queues' protocol: every message says what it is (`kind`) and in which version of its
//! format (`v`), so a reader dispatches on them instead of trying one parse after another,
//! and a message from a newer writer is refused with its reason (and parked, to be redriven
//! once the reader is upgraded) instead of being misread.
//!
//! Messages written before the protocol carried these fields, and events that producers
//! send straight to the events queue (which may leave them out), are read as version 1 of
//! the kind their shape says: a deliveries-queue message with a `recover` object is a
//! recover job, any other a delivery. Fields a reader does not know are ignored, so a
//! version may add optional fields without a new number.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::{DeliveryMessage, EventEnvelope, RecoverJob};

/// The version of the formats this code writes, and the newest it reads.
pub const MESSAGE_VERSION: u32 = 1;

/// Why a queue message cannot be read. The text is the dead letter's reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Not JSON, or not an object: serde's words.
    #[error("{0}")]
    Json(String),
    #[error("unknown message kind {0:?}")]
    UnknownKind(String),
    #[error("message version {0} is not one this service reads (1 to {MESSAGE_VERSION})")]
    Version(u32),
    /// The kind's fields are wrong: serde's words.
    #[error("{0}")]
    Body(String),
}

/// What a message says of itself; the rest of it is read by its kind.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    v: Option<u32>,
    /// Only in recover jobs written before `kind`: `{"recover": {...}}`.
    #[serde(default)]
    recover: Option<IgnoredAny>,
}

fn header(body: &str) -> Result<Header, MessageError> {
    let header: Header = serde_json::from_str(body).map_err(|e| MessageError::Json(e.to_string()))?;
    match header.v {
        None => Ok(header),
        Some(v) if (1..=MESSAGE_VERSION).contains(&v) => Ok(header),
        Some(v) => Err(MessageError::Version(v)),
    }
}

fn body<'a, T: Deserialize<'a>>(body: &'a str) -> Result<T, MessageError> {
    serde_json::from_str(body).map_err(|e| MessageError::Body(e.to_string()))
}

/// A message body with its kind and version first.
#[derive(Serialize)]
struct Tagged<'b, T> {
    kind: &'static str,
    v: u32,
    #[serde(flatten)]
    body: &'b T,
}

/// `body` as a message of `kind`, in this version.
pub(crate) fn tagged<T: Serialize>(kind: &'static str, body: &T) -> String {
    serde_json::to_string(&Tagged { kind, v: MESSAGE_VERSION, body }).expect("queue messages serialize")
}

/// A message of the deliveries queue.
#[derive(Debug)]
pub enum DeliveriesMessage<'a> {
    /// `"kind": "deliver"`: one delivery's pending attempt.
    Deliver(DeliveryMessage<'a>),
    /// `"kind": "recover"`: a page of an endpoint's failed deliveries to resend.
    Recover(RecoverJob),
}

/// A recover job as written before messages had a kind.
#[derive(Deserialize)]
struct UntaggedRecover {
    recover: RecoverJob,
}

impl<'a> DeliveriesMessage<'a> {
    pub fn parse(message: &'a str) -> Result<Self, MessageError> {
        let header = header(message)?;
        match (header.kind.as_deref(), header.recover.is_some()) {
            (Some("deliver"), _) | (None, false) => body(message).map(Self::Deliver),
            (Some("recover"), _) => body(message).map(Self::Recover),
            (None, true) => body::<UntaggedRecover>(message).map(|untagged| Self::Recover(untagged.recover)),
            (Some(other), _) => Err(MessageError::UnknownKind(other.to_owned())),
        }
    }
}

impl EventEnvelope {
    /// A message of the events queue (`"kind": "event"`, which producers may leave out).
    pub fn parse(message: &str) -> Result<Self, MessageError> {
        match header(message)?.kind.as_deref() {
            None | Some("event") => body(message),
            Some(other) => Err(MessageError::UnknownKind(other.to_owned())),
        }
    }

    /// The envelope as an events-queue message.
    pub fn message(&self) -> String {
        tagged("event", self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DeliveryId, EndpointId};
    use crate::time::Timestamp;

    fn delivery(message: &str) -> DeliveryMessage<'_> {
        match DeliveriesMessage::parse(message) {
            Ok(DeliveriesMessage::Deliver(delivery)) => delivery,
            other => panic!("not a delivery: {other:?}"),
        }
    }

    fn recover_job(message: &str) -> RecoverJob {
        match DeliveriesMessage::parse(message) {
            Ok(DeliveriesMessage::Recover(job)) => job,
            other => panic!("not a recover job: {other:?}"),
        }
    }

    /// Messages as the service wrote them before they carried a kind and a version: a deploy
    /// with these in flight (or parked, to be redriven) reads every one of them.
    #[test]
    fn messages_written_before_the_protocol_are_read() {
        let first = delivery(
            r#"{"id":"del_01KAS0000000000000000000AA","tenant":"acme","endpoint_id":"ep_01KAS0000000000000000000AB","event_id":"evt_1","event_type":"run.failed","created_at":"2026-03-21T10:00:00.000Z"}"#,
        );
        assert_eq!((first.event_type.as_str(), first.attempts_before, first.resend_after), ("run.failed", 0, None));
        let deferred = delivery(
            r#"{"id":"del_01KAS0000000000000000000AA","tenant":"acme","endpoint_id":"ep_01KAS0000000000000000000AB","event_id":"evt_1","event_type":"run.failed","created_at":"2026-03-21T10:00:00.000Z","payload":{"n":1},"attempts_before":2,"deferrals":3,"resend_after":1}"#,
        );
        assert_eq!((deferred.attempts_before, deferred.deferrals, deferred.resend_after), (2, 3, Some(1)));
        assert_eq!(deferred.payload.map(|p| p.get()), Some(r#"{"n":1}"#));
        let job = recover_job(
            r#"{"recover":{"tenant":"acme","endpoint_id":"ep_01KAS0000000000000000000AB","since":"2026-03-21T10:00:00.000Z","before":"del_01KAS0000000000000000000AA"}}"#,
        );
        assert_eq!(
            (job.tenant.as_str(), job.before.map(|b| b.to_string())),
            ("acme", Some("del_01KAS0000000000000000000AA".into()))
        );
        // What producers send straight to the events queue, as docs/aws.md shows it.
        let event = EventEnvelope::parse(
            r#"{"tenant": "default", "id": "evt-123", "type": "run.failed", "payload": {"run": 42}}"#,
        )
        .unwrap();
        assert_eq!(
            (event.tenant.as_str(), event.id.as_deref(), event.payload.get()),
            ("default", Some("evt-123"), r#"{"run": 42}"#)
        );
        let minimal = EventEnvelope::parse(r#"{"tenant":"t","type":"run.failed","payload":{}}"#).unwrap();
        assert_eq!((minimal.id, minimal.received_at), (None, None));
    }

    #[test]
    fn every_message_written_says_its_kind_and_version_and_reads_back() {
        let endpoint = EndpointId::generate(Timestamp::from_millis(1_000));
        let job =
            RecoverJob::new("acme", &endpoint, Timestamp::from_millis(5_000), Some(Timestamp::from_millis(9_000)));
        let message = job.message();
        assert!(message.starts_with(r#"{"kind":"recover","v":1,"#), "{message}");
        assert_eq!(recover_job(&message), job);

        let id = DeliveryId::parse(&DeliveryId::time_range(Timestamp::from_millis(7_000)).0).unwrap();
        let pending = crate::queues::messages::PendingDelivery {
            id: &id,
            tenant: "acme",
            endpoint_id: &endpoint,
            event_id: "evt_1",
            event_type: "run.failed",
            created_at: Timestamp::from_millis(7_000),
        };
        let first = DeliveryMessage::first(pending, None);
        assert!(first.starts_with(r#"{"kind":"deliver","v":1,"#), "{first}");
        let read = delivery(&first);
        assert_eq!((read.id.as_str(), read.attempts_before), (id.as_str(), 0));
        let deferred = read.deferred(3);
        assert!(deferred.starts_with(r#"{"kind":"deliver","v":1,"#), "{deferred}");
        assert_eq!((delivery(&deferred).attempts_before, delivery(&deferred).deferrals), (2, 1));

        let event = EventEnvelope::parse(r#"{"tenant":"t","type":"run.failed","payload":{"a":[1, 2]}}"#).unwrap();
        let message = event.message();
        assert!(message.starts_with(r#"{"kind":"event","v":1,"#), "{message}");
        assert_eq!(EventEnvelope::parse(&message).unwrap().payload.get(), r#"{"a":[1, 2]}"#);
    }

    #[test]
    fn unknown_kinds_and_newer_versions_are_refused_with_their_reason() {
        let refused = |message: &str| DeliveriesMessage::parse(message).unwrap_err();
        assert_eq!(refused(r#"{"kind":"teleport","v":1}"#), MessageError::UnknownKind("teleport".into()));
        assert_eq!(refused(r#"{"kind":"deliver","v":2,"id":"del_x"}"#), MessageError::Version(2));
        assert_eq!(refused(r#"{"kind":"deliver","v":0}"#), MessageError::Version(0));
        assert!(matches!(refused(r#"{"kind":"recover","v":1,"tenant":"acme"}"#), MessageError::Body(_)));
        assert!(matches!(refused(r#"{"id": "del_x", "tenant": "acme"}"#), MessageError::Body(_)));
        assert!(matches!(refused("not json"), MessageError::Json(text) if text.starts_with("expected")));
        assert!(matches!(refused("[1]"), MessageError::Json(_)));
        let event = |message: &str| EventEnvelope::parse(message).unwrap_err();
        assert_eq!(
            event(r#"{"kind":"deliver","tenant":"t","type":"a","payload":{}}"#),
            MessageError::UnknownKind("deliver".into())
        );
        assert_eq!(event(r#"{"v":7,"tenant":"t","type":"a","payload":{}}"#), MessageError::Version(7));
    }
}
