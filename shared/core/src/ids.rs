//! Typed, prefixed, time-sortable identifiers (`ep_`, `del_`, `key_`, `evt_`).
//!
//! The body is 26 Crockford base32 characters: 48 bits of milliseconds, then 80 bits that are
//! random or, for ids that must come out the same twice (a delivery of one event to one
//! endpoint), derived from a seed. Sorting the strings sorts by creation time, which is what
//! cursor pagination relies on.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::time::Timestamp;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BODY_LEN: usize = 26;

fn encode(at: Timestamp, entropy: [u8; 10]) -> String {
    let mut value: u128 = (at.as_millis().max(0) as u128 & 0xFFFF_FFFF_FFFF) << 80;
    for (i, byte) in entropy.iter().enumerate() {
        value |= (*byte as u128) << (8 * (9 - i));
    }
    let mut out = [0u8; BODY_LEN];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8(out.to_vec()).expect("alphabet is ASCII")
}

/// Random bits for a new id. Within the newest millisecond seen, each call returns the
/// previous value plus one, so ids made by one process sort in the order they were made.
/// An id for an older millisecond (a thread that read the clock earlier) takes fresh bits
/// and leaves that state alone: its time part already sorts it first.
fn monotonic_entropy(at: Timestamp) -> [u8; 10] {
    const MAX_80_BITS: u128 = (1 << 80) - 1;
    static LAST: std::sync::Mutex<(i64, u128)> = std::sync::Mutex::new((i64::MIN, 0));
    let fresh = || {
        let mut bytes = [0u8; 16];
        bytes[6..].copy_from_slice(&random_bytes::<10>());
        // The top bit stays clear so that a millisecond's increments cannot overflow.
        u128::from_be_bytes(bytes) & (MAX_80_BITS >> 1)
    };
    let millis = at.as_millis();
    let mut last = LAST.lock().expect("id state");
    let next = if millis < last.0 {
        fresh()
    } else {
        let next = if millis == last.0 && last.1 < MAX_80_BITS { last.1 + 1 } else { fresh() };
        *last = (millis, next);
        next
    };
    let mut entropy = [0u8; 10];
    entropy.copy_from_slice(&next.to_be_bytes()[6..]);
    entropy
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
}

fn is_body(text: &str) -> bool {
    text.len() == BODY_LEN && text.bytes().all(|b| CROCKFORD.contains(&b))
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = $prefix))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id whose time part is `at`.
            pub fn generate(at: Timestamp) -> Self {
                Self(format!("{}{}", $prefix, encode(at, monotonic_entropy(at))))
            }

            /// The same id every time for the same `at` and `seed`.
            pub fn derive(at: Timestamp, seed: &[u8]) -> Self {
                let digest = Sha256::digest(seed);
                let mut entropy = [0u8; 10];
                entropy.copy_from_slice(&digest[..10]);
                Self(format!("{}{}", $prefix, encode(at, entropy)))
            }

            /// Accepts only well-formed ids of this kind.
            pub fn parse(text: &str) -> Option<Self> {
                let body = text.strip_prefix($prefix)?;
                is_body(body).then(|| Self(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// An endpoint (a registered receiver URL).
    EndpointId,
    "ep_"
);
prefixed_id!(
    /// One event's delivery to one endpoint; the receiver's idempotency key.
    DeliveryId,
    "del_"
);
prefixed_id!(
    /// An API key's public identifier (never the key itself).
    ApiKeyId,
    "key_"
);
prefixed_id!(
    /// A customer portal session's public identifier (never its token).
    PortalSessionId,
    "ps_"
);
prefixed_id!(
    /// An event id assigned by the service when the producer gave none.
    GeneratedEventId,
    "evt_"
);

impl DeliveryId {
    /// The lowest and highest ids whose time part is `at`: every delivery of an event
    /// received at `at` lies between them (see [`DeliveryId::for_event`]).
    pub fn time_range(at: Timestamp) -> (String, String) {
        (format!("del_{}", encode(at, [0; 10])), format!("del_{}", encode(at, [0xff; 10])))
    }

    /// The delivery of `event_id` (received at `event_at`) to `endpoint`: the same id however
    /// often the event is dispatched, so duplicates collapse on the receiver's side too.
    pub fn for_event(tenant: &str, event_id: &str, endpoint: &EndpointId, event_at: Timestamp) -> Self {
        let seed = format!("{tenant}\u{0}{event_id}\u{0}{endpoint}");
        Self::derive(event_at, seed.as_bytes())
    }
}

/// A tenant's name. Every stored item belongs to exactly one tenant; another tenant's ids
/// behave as if they did not exist.
pub type Tenant = String;

/// Tenant names: 1..=64 characters of A-Z a-z 0-9 - _ (never `#`, which storage keys use).
pub const MAX_TENANT_LEN: usize = 64;

pub fn is_valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= MAX_TENANT_LEN
        && tenant.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_parse_back() {
        let early = EndpointId::generate(Timestamp::from_millis(1_000));
        let late = EndpointId::generate(Timestamp::from_millis(2_000));
        assert!(early < late);
        assert_eq!(EndpointId::parse(early.as_str()), Some(early.clone()));
        assert_eq!(DeliveryId::parse(early.as_str()), None, "wrong prefix");
        assert_eq!(EndpointId::parse("ep_short"), None);
    }

    #[test]
    fn ids_made_in_one_millisecond_keep_their_order() {
        // The latest millisecond ids can hold, so no other test's ids interleave.
        let at = Timestamp::from_millis((1 << 48) - 1);
        let ids: Vec<EndpointId> = (0..1000).map(|_| EndpointId::generate(at)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
    }

    #[test]
    fn delivery_ids_are_deterministic_per_event_and_endpoint() {
        let at = Timestamp::from_millis(1_774_087_200_000);
        let endpoint = EndpointId::generate(at);
        let other = EndpointId::generate(at);
        let first = DeliveryId::for_event("t", "evt_1", &endpoint, at);
        assert_eq!(first, DeliveryId::for_event("t", "evt_1", &endpoint, at));
        assert_ne!(first, DeliveryId::for_event("t", "evt_1", &other, at));
        assert_ne!(first, DeliveryId::for_event("u", "evt_1", &endpoint, at));
    }
}
