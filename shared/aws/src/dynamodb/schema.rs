//! The one DynamoDB table's shape: key attributes, the listing index and the TTL attribute.
//! Provisioning (`webhooks serve --aws --provision`) is built from these names, and a test
//! (`tests/tests/template.rs`) holds the SAM template to what provisioning creates, so the
//! code and the deployment cannot disagree.
//!
//! | item | pk | sk | list_pk / list_sk |
//! |---|---|---|---|
//! | endpoint | `T#{tenant}` | `EP#{endpoint id}` | while disabled: `DISABLED` / `{tenant}#{endpoint id}` |
//! | subscription | `T#{tenant}` | `SUB#{pattern}#{endpoint id}` | |
//! | subscriptions version | `T#{tenant}` | `SUBSCRIPTIONS` | |
//! | an endpoint's uid | `T#{tenant}` | `UID#{uid}` | |
//! | a tenant's event type | `T#{tenant}` | `ET#{name}` | |
//! | a tenant's portal session (its token's hash) | `T#{tenant}` | `PS#{session id}` | |
//! | portal session, by its token | `PS#{sha256 of the token}` | `PS` | |
//! | portal session, by its id (tenant, token's hash) | `PSID#{session id}` | `PS` | |
//! | event | `EV#{tenant}#{event id}` | `EV` | |
//! | event log entry | `EVL#{tenant}` | `{received ms, 15 digits}#{event id}` | |
//! | delivery | `D#{tenant}#{endpoint id}` | `{delivery id}` | `D#{tenant}` / `{delivery id}` |
//! | API key | `KEY#{sha256 of the key}` | `KEY` | `KEYS` / `{tenant}#{key id}` |
//! | rate count | `RATE#{endpoint id}` | `{unix second}` | |
//! | delivery counts of an hour | `STATS#{tenant}#{endpoint id}` | `{hour start ms, 15 digits}` | |
//! | idempotency key | `IDEM#{tenant}#{key}` | `IDEM` | |
//!
//! Tenants, event ids, event types and uids cannot contain `#`, so the keys are unambiguous.

pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
/// The global secondary index behind three listings: the delivery log (`D#{tenant}`, every
/// endpoint's deliveries newest first), the API keys (`KEYS`) and the disabled endpoints
/// (`DISABLED`, counted for the metrics). It is sparse (only items
/// with `list_pk` are in it), so sharing it costs no write more than two indexes would; a
/// second index would cost deployed tables a migration (CloudFormation adds one index per
/// update, and the deliveries written before it would be missing from it).
pub const LISTING_INDEX: &str = "listing";
pub const LISTING_PARTITION_KEY: &str = "list_pk";
pub const LISTING_SORT_KEY: &str = "list_sk";
/// Epoch seconds after which DynamoDB deletes the item (events, deliveries, delivery counts).
pub const TTL_ATTRIBUTE: &str = "expires_at";

pub fn tenant_partition(tenant: &str) -> String {
    format!("T#{tenant}")
}

pub fn endpoint_sort_key(endpoint_id: &str) -> String {
    format!("EP#{endpoint_id}")
}

pub const ENDPOINT_SORT_PREFIX: &str = "EP#";
/// The item whose `ver` changes with every endpoint write that may change subscriptions.
pub const SUBSCRIPTIONS_VERSION_SORT_KEY: &str = "SUBSCRIPTIONS";

/// A tenant's own event types sort after its endpoints (`ET#` > `EP#`), so neither listing
/// reads the other's items.
pub const EVENT_TYPE_SORT_PREFIX: &str = "ET#";

pub fn event_type_sort_key(name: &str) -> String {
    format!("ET#{name}")
}

/// A tenant's portal sessions sort after its endpoints and event types (`PS#` > `ET#`).
pub const PORTAL_SESSION_SORT_PREFIX: &str = "PS#";
pub const PORTAL_SESSION_SORT_KEY: &str = "PS";

pub fn portal_session_sort_key(id: &str) -> String {
    format!("PS#{id}")
}

pub fn portal_session_partition(token_hash: &str) -> String {
    format!("PS#{token_hash}")
}

pub fn portal_session_id_partition(id: &str) -> String {
    format!("PSID#{id}")
}

/// The item that makes a uid unique within its tenant (see `endpoint_uids.rs`); it sorts
/// after every endpoint, so the endpoint listing never reads it.
pub fn uid_sort_key(uid: &str) -> String {
    format!("UID#{uid}")
}

pub fn subscription_prefix(pattern: &str) -> String {
    format!("SUB#{pattern}#")
}

pub fn subscription_sort_key(pattern: &str, endpoint_id: &str) -> String {
    format!("SUB#{pattern}#{endpoint_id}")
}

pub fn event_partition(tenant: &str, event_id: &str) -> String {
    format!("EV#{tenant}#{event_id}")
}

pub const EVENT_SORT_KEY: &str = "EV";

/// A tenant's event log: one small entry per event (no payload), oldest first by sort key.
pub fn event_log_partition(tenant: &str) -> String {
    format!("EVL#{tenant}")
}

/// An event's place in its tenant's event log: receive time (zero-padded, so text order is
/// time order), then id.
pub fn event_log_sort_key(received_ms: i64, event_id: &str) -> String {
    format!("{received_ms:015}#{event_id}")
}

pub fn delivery_partition(tenant: &str, endpoint_id: &str) -> String {
    format!("D#{tenant}#{endpoint_id}")
}

/// The per-second delivery counts of a rate-limited endpoint.
pub fn rate_partition(endpoint_id: &str) -> String {
    format!("RATE#{endpoint_id}")
}

/// An endpoint's delivery counts, one item per hour.
pub fn stats_partition(tenant: &str, endpoint_id: &str) -> String {
    format!("STATS#{tenant}#{endpoint_id}")
}

/// An hour's place among an endpoint's counts: its start, zero-padded so text order is time order.
pub fn stats_sort_key(hour_ms: i64) -> String {
    format!("{hour_ms:015}")
}

pub fn delivery_log_partition(tenant: &str) -> String {
    format!("D#{tenant}")
}

pub fn api_key_partition(key_hash: &str) -> String {
    format!("KEY#{key_hash}")
}

pub const API_KEY_SORT_KEY: &str = "KEY";
pub const API_KEY_LISTING: &str = "KEYS";

/// The listing partition of the disabled endpoints: an endpoint is in it while disabled
/// (its item carries the listing keys only then), so counting them reads them alone.
pub const DISABLED_ENDPOINTS_LISTING: &str = "DISABLED";

pub fn disabled_endpoint_listing_key(tenant: &str, endpoint_id: &str) -> String {
    format!("{tenant}#{endpoint_id}")
}
