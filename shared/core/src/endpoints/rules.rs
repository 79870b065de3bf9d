//! The rules of an endpoint's fields: every size and count limit, with field-level errors.

use std::collections::BTreeMap;

use crate::deliveries::rate_limit::MAX_RATE_LIMIT;
use crate::endpoints::filters::{EventFilter, EventFilters, MAX_FILTERED_TYPES, MAX_FILTERS_BYTES, check_filter};
use crate::events::intake::check_entity_id;
use crate::events::patterns::pattern_matches;
use crate::events::types::TenantCatalog;
use crate::security::url_guard::UrlPolicy;
use crate::validation::FieldError;

pub const MAX_DESCRIPTION_LEN: usize = 255;

/// Event types or wildcards per endpoint: enough to select every type one by one (seed 000's
/// way to subscribe to everything). DynamoDB's subscription index is written beside the
/// endpoint, not in its transaction (`webhooks-aws`'s `subscriptions.rs`), so it is not
/// bound by a transaction's 100 actions.
pub const MAX_SUBSCRIPTIONS: usize = 500;

/// Endpoints one tenant may have, unless the operator says otherwise (`--max-endpoints`).
pub const DEFAULT_MAX_ENDPOINTS: usize = 100;

/// The most the operator may allow: creating an endpoint reads the tenant's endpoints.
pub const MAX_MAX_ENDPOINTS: usize = 10_000;

/// Parses an operator's endpoint limit: a whole number from 1 to [`MAX_MAX_ENDPOINTS`].
pub fn parse_max_endpoints(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_MAX_ENDPOINTS).contains(n))
        .ok_or_else(|| format!("must be a whole number from 1 to {MAX_MAX_ENDPOINTS}"))
}

pub const MAX_CUSTOM_HEADERS: usize = 20;

/// An endpoint's `metadata`: entries, and each key's and value's characters.
pub const MAX_METADATA_ENTRIES: usize = 32;

pub const MAX_METADATA_KEY_LEN: usize = 64;

pub const MAX_METADATA_VALUE_LEN: usize = 1024;

pub const MAX_HEADER_NAME_LEN: usize = 64;

pub const MAX_HEADER_VALUE_LEN: usize = 1024;

pub const SECRET_LEN: std::ops::RangeInclusive<usize> = 16..=255;

/// An endpoint's `uid`: at most this many characters (see [`check_uid`]).
pub const MAX_UID_LEN: usize = 256;

/// The configurable part of an endpoint, as it will be stored.
pub struct EndpointFields<'a> {
    pub url: &'a str,
    pub events: &'a [String],
    pub event_filters: &'a EventFilters,
    pub description: Option<&'a str>,
    pub headers: &'a BTreeMap<String, String>,
    pub metadata: &'a BTreeMap<String, String>,
    pub rate_limit: Option<u32>,
    pub uid: Option<&'a str>,
}

/// Checks an endpoint's fields; `url_policy` is the deployment's outbound policy, `catalog`
/// the types the tenant has.
pub fn check_endpoint(fields: &EndpointFields<'_>, url_policy: &UrlPolicy, catalog: &TenantCatalog) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(rejection) = url_policy.check_url(fields.url) {
        errors.push(FieldError::new("url", rejection.to_string()));
    }
    if fields.events.is_empty() {
        errors.push(FieldError::new("events", "must list at least one event type"));
    }
    if fields.events.len() > MAX_SUBSCRIPTIONS {
        errors.push(FieldError::new("events", format!("at most {MAX_SUBSCRIPTIONS} entries")));
    }
    for (i, pattern) in fields.events.iter().enumerate() {
        if !catalog.is_valid_subscription(pattern) {
            errors.push(FieldError::new(
                format!("events[{i}]"),
                format!("{pattern:?} is neither a known event type nor a wildcard matching one"),
            ));
        }
    }
    check_event_filters(fields.event_filters, fields.events, catalog, &mut errors);
    if let Some(description) = fields.description
        && description.chars().count() > MAX_DESCRIPTION_LEN
    {
        errors.push(FieldError::new("description", format!("at most {MAX_DESCRIPTION_LEN} characters")));
    }
    check_headers(fields.headers, &mut errors);
    check_metadata(fields.metadata, &mut errors);
    if let Some(uid) = fields.uid {
        check_uid(uid, &mut errors);
    }
    if let Some(limit) = fields.rate_limit
        && !(1..=MAX_RATE_LIMIT).contains(&limit)
    {
        errors.push(FieldError::new("rate_limit", format!("deliveries per second, 1..={MAX_RATE_LIMIT}")));
    }
    errors
}

/// Each filter's key must be a type or wildcard that selects at least one catalog type the
/// endpoint subscribes to; each filter's shape and sizes as [`check_filter`] says; all of
/// them together at most [`MAX_FILTERS_BYTES`] of JSON.
fn check_event_filters(
    filters: &EventFilters,
    events: &[String],
    catalog: &TenantCatalog,
    errors: &mut Vec<FieldError>,
) {
    if filters.len() > MAX_FILTERED_TYPES {
        errors.push(FieldError::new("event_filters", format!("at most {MAX_FILTERED_TYPES} event types")));
    }
    let size = serde_json::to_string(filters).map_or(usize::MAX, |json| json.len());
    if size > MAX_FILTERS_BYTES {
        errors.push(FieldError::new("event_filters", format!("at most {MAX_FILTERS_BYTES} bytes of JSON in all")));
    }
    for (key, filter) in filters {
        let field = format!("event_filters.{key}");
        let selects_a_subscribed_type = catalog.is_valid_subscription(key)
            && catalog.names().any(|t| pattern_matches(key, t) && events.iter().any(|p| pattern_matches(p, t)));
        if !selects_a_subscribed_type {
            errors.push(FieldError::new(
                &field,
                "must be a known event type (or a wildcard matching one) the endpoint subscribes to",
            ));
        }
        if let EventFilter::Entities(ids) = filter {
            for entity in ids {
                check_entity_id(entity, &field, errors);
            }
        }
        for problem in check_filter(filter) {
            errors.push(FieldError::new(format!("{field}{}", problem.at), problem.message));
        }
    }
}

/// Headers the service sets itself (in any case); a custom header may not replace them.
pub const RESERVED_HEADERS: &[&str] =
    &["content-type", "content-length", "host", "user-agent", "transfer-encoding", "connection"];

/// Prefixes of the service's own headers, which a custom header may not take either.
pub const RESERVED_HEADER_PREFIXES: &[&str] = &["x-webhook-", "webhook-"];

/// What an HTTP token (a header's name) may hold besides ASCII letters and digits.
pub const TOKEN_PUNCTUATION: &str = "!#$%&'*+-.^_`|~";

fn is_reserved_header(lower: &str) -> bool {
    RESERVED_HEADERS.contains(&lower) || RESERVED_HEADER_PREFIXES.iter().any(|prefix| lower.starts_with(prefix))
}

fn check_headers(headers: &BTreeMap<String, String>, errors: &mut Vec<FieldError>) {
    if headers.len() > MAX_CUSTOM_HEADERS {
        errors.push(FieldError::new("headers", format!("at most {MAX_CUSTOM_HEADERS} headers")));
    }
    for (name, value) in headers {
        let field = format!("headers.{name}");
        let token = !name.is_empty()
            && name.len() <= MAX_HEADER_NAME_LEN
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || TOKEN_PUNCTUATION.as_bytes().contains(&b));
        if !token {
            errors.push(FieldError::new(
                &field,
                format!("name must be an HTTP token of at most {MAX_HEADER_NAME_LEN} characters"),
            ));
        } else if is_reserved_header(&name.to_ascii_lowercase()) {
            errors.push(FieldError::new(&field, "is set by the service and cannot be overridden"));
        }
        if value.len() > MAX_HEADER_VALUE_LEN || !value.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
            errors.push(FieldError::new(
                &field,
                format!("value must be printable ASCII, at most {MAX_HEADER_VALUE_LEN} characters"),
            ));
        }
    }
}

fn check_metadata(metadata: &BTreeMap<String, String>, errors: &mut Vec<FieldError>) {
    if metadata.len() > MAX_METADATA_ENTRIES {
        errors.push(FieldError::new("metadata", format!("at most {MAX_METADATA_ENTRIES} entries")));
    }
    for (key, value) in metadata {
        let key_fine =
            !key.is_empty() && key.chars().count() <= MAX_METADATA_KEY_LEN && !key.chars().any(char::is_control);
        if !key_fine {
            errors.push(FieldError::new(
                format!("metadata.{key}"),
                format!("a key is 1..={MAX_METADATA_KEY_LEN} characters, no control characters"),
            ));
        }
        if value.chars().count() > MAX_METADATA_VALUE_LEN {
            errors.push(FieldError::new(
                format!("metadata.{key}"),
                format!("at most {MAX_METADATA_VALUE_LEN} characters"),
            ));
        }
    }
}

/// An endpoint's uid is 1..=[`MAX_UID_LEN`] characters of `A-Z a-z 0-9 . _ -`, the first a
/// letter or digit, and never of the form of an endpoint id (`ep_` and a ULID): a path segment
/// then names one endpoint however it is read, and fits in a URL and a storage key as it is.
pub fn check_uid(uid: &str, errors: &mut Vec<FieldError>) {
    if !is_uid_form(uid) {
        errors.push(FieldError::new(
            "uid",
            format!("1..={MAX_UID_LEN} characters of A-Z a-z 0-9 . _ -, starting with a letter or digit"),
        ));
    } else if crate::ids::EndpointId::parse(uid).is_some() {
        errors.push(FieldError::new("uid", "must not have the form of an endpoint id (ep_...)"));
    }
}

/// Whether `uid` is of a uid's form (see [`check_uid`]); an endpoint id also is.
pub fn is_uid_form(uid: &str) -> bool {
    (1..=MAX_UID_LEN).contains(&uid.len())
        && uid.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && uid.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Checks a caller-supplied secret.
pub fn check_secret(secret: &str, errors: &mut Vec<FieldError>) {
    if !SECRET_LEN.contains(&secret.chars().count()) {
        errors.push(FieldError::new(
            "secret",
            format!("must be {}..={} characters", SECRET_LEN.start(), SECRET_LEN.end()),
        ));
    } else if secret.chars().any(char::is_control) {
        errors.push(FieldError::new("secret", "must not contain control characters"));
    } else if secret.starts_with(crate::security::signing::ED25519_SECRET_PREFIX)
        && crate::security::signing::ed25519_key(&crate::security::signing::Secret::new(secret)).is_none()
    {
        errors.push(FieldError::new("secret", "an ed25519 secret is whsk_ and the base64 of a 64-byte key pair"));
    }
}

/// Checks that a caller-supplied secret is of the scheme asked for, if both are given.
pub fn check_signing(
    secret: Option<&str>,
    signing: Option<crate::security::signing::Signing>,
    errors: &mut Vec<FieldError>,
) {
    if let (Some(secret), Some(signing)) = (secret, signing)
        && crate::security::signing::Signing::of(&crate::security::signing::Secret::new(secret)) != signing
    {
        errors.push(FieldError::new("signing", "does not match the secret's form (whsk_... is ed25519)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::json_depth;

    fn fields_with<'a>(
        url: &'a str,
        events: &'a [String],
        filters: &'a EventFilters,
        headers: &'a BTreeMap<String, String>,
    ) -> EndpointFields<'a> {
        const NO_METADATA: &BTreeMap<String, String> = &BTreeMap::new();
        let metadata = NO_METADATA;
        EndpointFields {
            url,
            events,
            event_filters: filters,
            description: None,
            headers,
            metadata,
            rate_limit: None,
            uid: None,
        }
    }

    #[test]
    fn a_uid_is_a_plain_token_that_cannot_pass_for_an_id() {
        let check = |uid: &str| {
            let mut errors = Vec::new();
            check_uid(uid, &mut errors);
            errors.is_empty()
        };
        for fine in ["customer-42", "a", "Acme.prod_1", "ep_mine", &"u".repeat(MAX_UID_LEN)] {
            assert!(check(fine), "{fine}");
        }
        let id = crate::ids::EndpointId::generate(crate::time::Timestamp::now());
        for bad in ["", "-x", ".", "..", "a/b", "a b", "a#b", "é", id.as_str(), &"u".repeat(MAX_UID_LEN + 1)] {
            assert!(!check(bad), "{bad}");
        }
    }

    #[test]
    fn json_depth_counts_nesting_outside_strings() {
        assert_eq!(json_depth("{}"), 1);
        assert_eq!(json_depth(r#"{"a": [1, {"b": []}], "c": {}}"#), 4);
        assert_eq!(json_depth(r#"{"s": "[[[{{{\"[[["}"#), 1);
        assert_eq!(json_depth(r#"{"s": "\\", "t": [[]]}"#), 3);
        assert_eq!(json_depth(&format!("{}{}", "[".repeat(300), "]".repeat(300))), 300);
    }

    #[test]
    fn reserved_and_malformed_headers_are_refused() {
        let events = vec!["*".to_owned()];
        let filters = BTreeMap::new();
        for (name, value) in [
            ("X-Webhook-Signature", "x"),
            ("webhook-id", "x"),
            ("Content-Type", "text/plain"),
            ("bad name", "x"),
            ("X-Ok", "line\nbreak"),
        ] {
            let headers = BTreeMap::from([(name.to_owned(), value.to_owned())]);
            let errors = check_endpoint(
                &fields_with("https://example.com", &events, &filters, &headers),
                &UrlPolicy::default(),
                &TenantCatalog::defaults(),
            );
            assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        }
        let fine = BTreeMap::from([("X-Tenant".to_owned(), "acme".to_owned())]);
        assert!(
            check_endpoint(
                &fields_with("https://example.com", &events, &filters, &fine),
                &UrlPolicy::default(),
                &TenantCatalog::defaults()
            )
            .is_empty()
        );
    }

    #[test]
    fn filters_must_name_subscribed_types_or_families() {
        let events = vec!["playground.*".to_owned(), "trick.failed".to_owned()];
        let headers = BTreeMap::new();
        let check = |filters: &str| {
            let filters: EventFilters = serde_json::from_str(filters).unwrap();
            check_endpoint(
                &fields_with("https://e.com", &events, &filters, &headers),
                &UrlPolicy::default(),
                &TenantCatalog::defaults(),
            )
        };
        assert_eq!(check(r#"{"playground.created": [1]}"#), []);
        assert_eq!(check(r#"{"playground.*": {"status": ["failed"]}, "trick.*": {"a": [1]}, "*": []}"#), []);
        for bad in [r#"{"run.failed": []}"#, r#"{"run.*": []}"#, r#"{"nope.*": []}"#, r#"{"play*": []}"#] {
            assert_eq!(check(bad).len(), 1, "{bad}");
        }
        // Within every per-path limit, but 10 paths of 80 values of 90 characters pass 64 KiB.
        let many: String = (0..80).map(|i| format!("\"{i:0>90}\"")).collect::<Vec<_>>().join(",");
        let paths: Vec<String> = (0..10).map(|p| format!(r#""p{p}": [{many}]"#)).collect();
        let too_big = format!(r#"{{"playground.*": {{{}}}}}"#, paths.join(","));
        let errors: Vec<String> = check(&too_big).into_iter().map(|e| e.field + ": " + &e.message).collect();
        assert_eq!(errors, ["event_filters: at most 65536 bytes of JSON in all"]);
        assert_eq!(check(r#"{"playground.created": [""]}"#)[0].field, "event_filters.playground.created");
    }
}
