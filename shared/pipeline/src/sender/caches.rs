//! What the sender keeps between deliveries so that it does not redo work: each endpoint's
//! prepared signing keys, and event payloads (an event fanned out to many endpoints is read
//! once).

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use webhooks::endpoints::Endpoint;
use webhooks::ids::EndpointId;
use webhooks::security::signing::EndpointKeys;
use webhooks::time::Timestamp;

/// Prepared signing keys kept; the cache is cleared when it grows past this.
const KEY_CACHE_LIMIT: usize = 10_000;
/// Payload bytes kept; the cache is cleared when it grows past this.
const PAYLOAD_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Event payloads read from the store, by (tenant, event id). Events never change, so an
/// entry is good until evicted.
#[derive(Default)]
pub(crate) struct PayloadCache {
    entries: Mutex<CachedPayloads>,
}

/// Payloads by (tenant, event id), and their bytes in all.
#[derive(Default)]
struct CachedPayloads {
    by_event: HashMap<(String, String), Bytes>,
    bytes: usize,
}

impl PayloadCache {
    pub(crate) fn get(&self, tenant: &str, event_id: &str) -> Option<Bytes> {
        let entries = self.entries.lock().expect("payload cache");
        entries.by_event.get(&(tenant.to_owned(), event_id.to_owned())).cloned()
    }

    pub(crate) fn put(&self, tenant: &str, event_id: &str, payload: Bytes) {
        let mut entries = self.entries.lock().expect("payload cache");
        if entries.bytes + payload.len() > PAYLOAD_CACHE_BYTES {
            *entries = CachedPayloads::default();
        }
        entries.bytes += payload.len();
        entries.by_event.insert((tenant.to_owned(), event_id.to_owned()), payload);
    }
}

/// Signing keys prepared once per endpoint secret, not once per delivery.
#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<EndpointId, CachedKeys>>,
}

struct CachedKeys {
    updated_at: Timestamp,
    /// When the previous secret stops signing (the keys change then).
    valid_until: Option<Timestamp>,
    keys: EndpointKeys,
}

impl KeyCache {
    pub(crate) fn keys_for(&self, endpoint: &Endpoint, now: Timestamp) -> EndpointKeys {
        let mut entries = self.entries.lock().expect("key cache");
        if let Some(cached) = entries.get(&endpoint.id)
            && cached.updated_at == endpoint.updated_at
            && cached.valid_until.is_none_or(|until| now < until)
        {
            return cached.keys.clone();
        }
        if entries.len() >= KEY_CACHE_LIMIT {
            entries.clear();
        }
        let keys = endpoint.keys(now);
        let valid_until =
            endpoint.previous_secret.as_ref().map(|previous| previous.expires_at).filter(|expires| *expires > now);
        entries.insert(
            endpoint.id.clone(),
            CachedKeys { updated_at: endpoint.updated_at, valid_until, keys: keys.clone() },
        );
        keys
    }
}
