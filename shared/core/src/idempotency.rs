//! `Idempotency-Key` on every POST (the IETF draft's header, Stripe's practice): the first
//! request with a key runs and its answer is kept for [`IDEMPOTENCY_TTL`]; a repeat of the
//! same request gets that answer again without running; the same key on a different request
//! is refused (422), and a repeat while the first still runs waits for nothing (409).

use std::future::Future;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::ports::StoreError;
use crate::time::Timestamp;

/// How long an answer is kept for repeats.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a request may hold its key while it runs; a key held longer (its process died)
/// is free for the next request.
pub const IDEMPOTENCY_LOCK: Duration = Duration::from_secs(60);
/// A key: 1 to 255 visible ASCII characters.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
/// The largest answer kept; a larger one is answered but not kept (a repeat runs again).
pub const MAX_KEPT_ANSWER_BYTES: usize = 64 * 1024;

pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY_LEN && key.bytes().all(|b| (b'!'..=b'~').contains(&b))
}

/// What makes two requests the same: method, path with query, and body.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), b"\n", path_and_query.as_bytes(), b"\n", body] {
        hash.update(part);
    }
    hex::encode(hash.finalize())
}

/// A kept answer: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    pub status: u16,
    pub body: String,
}

/// What taking a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// The key is this request's now: run it, then keep or release.
    New,
    /// Another request with this key is running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
    /// The same request ran before: its answer.
    Done(KeptAnswer),
}

/// One use of a key.
#[derive(Debug, Clone)]
pub struct KeyUse<'a> {
    pub tenant: &'a str,
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub now: Timestamp,
}

/// Idempotency keys and the answers kept for them (see [`crate::idempotency`]).
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Takes `use.key` of `use.tenant` for this request, atomically: MUST answer `New` (and
    /// hold the key until `use.now` + [`crate::idempotency::IDEMPOTENCY_LOCK`]) when the key
    /// is unused, expired, or held by a request that ran out of its lock; else `Mismatch`
    /// if it was taken with another fingerprint, `Done` with the kept answer, or
    /// `InProgress` while its holder runs. Keys are per tenant.
    fn take_key(&self, key_use: &KeyUse<'_>) -> impl Future<Output = Result<Taken, StoreError>> + Send;

    /// Keeps `answer` for the key until `use.now` + [`crate::idempotency::IDEMPOTENCY_TTL`].
    fn keep_answer(
        &self,
        key_use: &KeyUse<'_>,
        answer: &KeptAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Frees the key (its request failed on our side, so a repeat may run); no error if it
    /// is gone.
    fn release_key(&self, tenant: &str, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_and_fingerprints_tell_requests_apart() {
        assert!(is_valid_key("order-7:retry") && is_valid_key(&"k".repeat(255)));
        for bad in ["", "with space", "tab\t", "é", &"k".repeat(256)] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
        let a = fingerprint("POST", "/v1/events", b"{}");
        assert_eq!(a, fingerprint("POST", "/v1/events", b"{}"));
        assert_ne!(a, fingerprint("POST", "/v1/events?x=1", b"{}"));
        assert_ne!(a, fingerprint("POST", "/v1/events", b"{ }"));
    }
}
