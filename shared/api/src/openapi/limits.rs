//! Every limit the server enforces on a request, written into the generated document from the
//! same constants the validation reads, so that what the document calls valid is what the
//! server accepts, and what it calls invalid is refused. What no schema can say (which types
//! a tenant's catalog holds, that a filter's key must select a subscribed type, that `until`
//! is after `since`, that a cursor came from the list) is said in the field's description.

use serde_json::{Value, json};
use webhooks::deliveries::rate_limit::MAX_RATE_LIMIT;
use webhooks::endpoints::filters::{
    MAX_FILTERED_TYPES, MAX_FILTERS_BYTES, MAX_IDS_PER_FILTER, MAX_PATH_LEN, MAX_PATH_SEGMENTS, MAX_PATHS_PER_FILTER,
    MAX_VALUE_LEN, MAX_VALUES_PER_PATH,
};
use webhooks::endpoints::rules::{
    MAX_CUSTOM_HEADERS, MAX_DESCRIPTION_LEN, MAX_HEADER_NAME_LEN, MAX_HEADER_VALUE_LEN, MAX_METADATA_ENTRIES,
    MAX_METADATA_KEY_LEN, MAX_METADATA_VALUE_LEN, MAX_SUBSCRIPTIONS, RESERVED_HEADER_PREFIXES, RESERVED_HEADERS,
    SECRET_LEN, TOKEN_PUNCTUATION,
};
use webhooks::events::intake::{MAX_ENTITY_ID_LEN, MAX_EVENTS_PER_BATCH};
use webhooks::events::types::{
    MAX_EVENT_TYPE_DESCRIPTION_LEN, MAX_EVENT_TYPE_NAME_LEN, MAX_EVENT_TYPE_PARTS, MAX_FAMILY_LEN, MAX_SCHEMA_BYTES,
};
use webhooks::ids::MAX_TENANT_LEN;
use webhooks::security::api_keys::MAX_KEY_NAME_LEN;
use webhooks::security::signing::ED25519_SECRET_PREFIX as ED25519;
use webhooks::security::url_guard::MAX_URL_LEN;
use webhooks_pipeline::services::endpoints::MAX_ROTATION_OVERLAP;

/// Control characters (Unicode `Cc`, as `char::is_control`).
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";
/// Unicode `White_Space`, as `str::trim`: a text of these alone is blank.
const SPACE: &str = r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
const NAME_PART: &str = "[A-Za-z0-9_-]+";

/// A pattern's letters in either case (`[Ll][Oo]...`): JSON Schema patterns take no flags.
fn any_case(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphabetic() { format!("[{}{}]", c.to_ascii_uppercase(), c) } else { c.to_string() })
        .collect()
}

fn type_name() -> Value {
    let parts = MAX_EVENT_TYPE_PARTS - 1;
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_EVENT_TYPE_NAME_LEN,
        "pattern": format!(r"^{NAME_PART}(\.{NAME_PART}){{0,{parts}}}$"),
    })
}

const CATALOG: &str = "A type of the tenant's catalog (`GET /v1/event-types`: the default types and the \
    tenant's own); any other is refused (400).";

/// An event type, `*`, or `family.*`: a type of the tenant's catalog, or a wildcard matching one.
fn subscription() -> Value {
    let (types, prefixes) = (MAX_EVENT_TYPE_PARTS - 1, MAX_EVENT_TYPE_PARTS - 2);
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_EVENT_TYPE_NAME_LEN,
        "pattern": format!(r"^(\*|{NAME_PART}(\.{NAME_PART}){{0,{types}}}|{NAME_PART}(\.{NAME_PART}){{0,{prefixes}}}\.\*)$"),
        "description": "An event type of the tenant's catalog (`GET /v1/event-types`), `*`, or a wildcard \
            `family.*` that matches at least one of them; any other is refused (400).",
    })
}

/// An `https://` URL the default policy accepts, written as every parser reads it
/// (`url_guard`): a host name (not `localhost`) or a public IPv4 address, an optional port,
/// and only RFC 3986's characters. A public IPv6 literal is accepted too, though the pattern
/// does not spell it out.
pub fn url_pattern() -> String {
    let localhost = any_case("localhost");
    let end = "(?:[:/?#]|$)";
    let name = format!(
        r"(?!{localhost}\.?{end})(?![^/?#:]*\.{localhost}\.?{end})(?![^/?#:]{{254}})(?:[A-Za-z0-9-]{{1,63}}\.)*[A-Za-z][A-Za-z0-9-]{{0,62}}\.?"
    );
    let octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    let internal = [
        r"(?:0|10|127)\.",
        r"100\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.",
        r"169\.254\.",
        r"172\.(?:1[6-9]|2[0-9]|3[01])\.",
        r"192\.0\.[02]\.",
        r"192\.88\.99\.",
        r"192\.168\.",
        r"198\.1[89]\.",
        r"198\.51\.100\.",
        r"203\.0\.113\.",
        r"(?:22[4-9]|2[3-5][0-9])\.",
    ]
    .join("|");
    let ipv4 = format!(r"(?!(?:{internal}))(?:{octet}\.){{3}}{octet}");
    let port = "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?";
    let rest = r"(?:[/?#](?:[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*)?";
    format!("^https://(?:{name}|{ipv4}){port}{rest}$")
}

fn url() -> Value {
    json!({
        "type": "string",
        "format": "uri",
        "minLength": "https://a".len(),
        "maxLength": MAX_URL_LEN,
        "pattern": url_pattern(),
        "description": format!("Where deliveries are POSTed: `https://`, a host name or a public IPv4 address (never \
            `localhost`, a private, loopback, link-local or otherwise internal address; a public IPv6 literal is \
            taken too, though the pattern leaves it out), written as every parser \
            reads it (no backslash; only RFC 3986's characters; an international name in its `xn--` form), at most \
            {MAX_URL_LEN} characters. The deployment's URL policy decides: a development server with \
            `--allow-insecure-urls` also takes `http://localhost`, `127.0.0.1` and `[::1]`, and `--allow-private` \
            opens internal ranges. Every send checks the address it connects to."),
    })
}

fn entity_id() -> Value {
    json!({"oneOf": [
        {"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX},
        {"type": "string", "minLength": 1, "maxLength": MAX_ENTITY_ID_LEN},
    ]})
}

fn event_filters() -> Value {
    let segments = MAX_PATH_SEGMENTS - 1;
    json!({
        "type": "object",
        "maxProperties": MAX_FILTERED_TYPES,
        "propertyNames": subscription(),
        "description": format!("Per event type or wildcard, which of its events to deliver: a list of entity ids, or \
            payload paths (`data.status`) to the values they may hold. Each key must select a type the endpoint \
            subscribes to; all of them together at most {} KiB of JSON.", MAX_FILTERS_BYTES / 1024),
        "additionalProperties": {"oneOf": [
            {"type": "array", "maxItems": MAX_IDS_PER_FILTER, "items": entity_id(),
             "description": "Only events of these entities; empty: every event."},
            {"type": "object", "maxProperties": MAX_PATHS_PER_FILTER,
             "description": "Payload path -> the values it may hold; every path must match. Empty: every event.",
             "propertyNames": {"maxLength": MAX_PATH_LEN, "pattern": format!(r"^[^.]+(\.[^.]+){{0,{segments}}}$")},
             "additionalProperties": {
                 "type": "array", "minItems": 1, "maxItems": MAX_VALUES_PER_PATH,
                 "items": {"type": ["string", "number", "boolean", "null"], "maxLength": MAX_VALUE_LEN},
             }},
        ]},
    })
}

fn headers() -> Value {
    let reserved = RESERVED_HEADERS.iter().map(|name| any_case(name)).collect::<Vec<_>>().join("|");
    let prefixes = RESERVED_HEADER_PREFIXES.iter().map(|prefix| any_case(prefix)).collect::<Vec<_>>().join("|");
    // In a character class `-` is a range unless escaped.
    let token = TOKEN_PUNCTUATION.replace('-', r"\-");
    let named = RESERVED_HEADERS.iter().map(|name| format!("`{name}`"));
    let prefixed = RESERVED_HEADER_PREFIXES.iter().map(|prefix| format!("`{prefix}*`"));
    let kept = named.chain(prefixed).collect::<Vec<_>>().join(", ");
    json!({
        "type": "object",
        "maxProperties": MAX_CUSTOM_HEADERS,
        "propertyNames": {
            "pattern": format!("^(?!(?:{reserved})$)(?!{prefixes})[A-Za-z0-9{token}]{{1,{MAX_HEADER_NAME_LEN}}}$"),
        },
        "additionalProperties": {"type": "string", "maxLength": MAX_HEADER_VALUE_LEN, "pattern": r"^[\t -~]*$"},
        "description": format!("Sent with every delivery: HTTP token names, printable ASCII values. The headers \
            the service sets ({kept}) cannot be replaced."),
    })
}

fn metadata() -> Value {
    json!({
        "type": "object",
        "maxProperties": MAX_METADATA_ENTRIES,
        "propertyNames": {"minLength": 1, "maxLength": MAX_METADATA_KEY_LEN, "pattern": format!("^[^{CONTROL}]*$")},
        "additionalProperties": {"type": "string", "maxLength": MAX_METADATA_VALUE_LEN},
        "description": "The tenant's own notes; never sent to receivers.",
    })
}

fn secret() -> Value {
    json!({
        "type": "string",
        "minLength": SECRET_LEN.start(),
        "maxLength": SECRET_LEN.end(),
        // An ed25519 key pair is 64 bytes: 88 characters of padded base64.
        "pattern": format!(r"^(?!{ED25519})[^{CONTROL}]*$|^{ED25519}[A-Za-z0-9+/]{{86}}==$"),
        "description": format!("The signing secret; generated when absent. A `{ED25519}` secret is an ed25519 \
            key pair (the base64 of its 64 bytes, as this service makes them) and signs with ed25519."),
    })
}

fn not_blank(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": format!("[^{SPACE}]")})
}

fn uid() -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": webhooks::endpoints::rules::MAX_UID_LEN,
        "pattern": "^(?!ep_[0-9A-HJKMNP-TV-Z]{26}$)[A-Za-z0-9][A-Za-z0-9._-]*$",
    })
}

fn cursor() -> Value {
    json!({
        "type": "string",
        "minLength": 2,
        // Unpadded base64url: never one character past a group of four.
        "pattern": "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$",
        "description": "The `next_cursor` of the page before; a value this list did not give is refused (400).",
    })
}

/// `schema` (a type's own properties) made to also take `null`, as a PATCH does.
fn nullable(mut schema: Value) -> Value {
    match schema.get_mut("type") {
        Some(Value::String(name)) => schema["type"] = json!([name.clone(), "null"]),
        Some(Value::Array(names)) => names.push(json!("null")),
        _ => schema = json!({"oneOf": [schema, {"type": "null"}]}),
    }
    schema
}

/// Sets the schema at `pointer` (under `#/components/schemas`) to `schema`, keeping the
/// description the code gave it unless `schema` has its own.
fn set(document: &mut Value, pointer: &str, schema: Value) {
    let at = document
        .pointer_mut(&format!("/components/schemas{pointer}"))
        .unwrap_or_else(|| panic!("the document has no schema at {pointer}"));
    let description = at.get("description").cloned();
    *at = schema;
    if let (Some(description), Some(object)) = (description, at.as_object_mut()) {
        object.entry("description").or_insert(description);
    }
}

/// Merges `fields` into the object at `pointer`.
fn add(document: &mut Value, pointer: &str, fields: Value) {
    let at = document
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("the document has no object at {pointer}"));
    at.extend(fields.as_object().cloned().unwrap_or_default());
}

/// Writes every limit into the document.
pub fn apply(document: &mut Value) {
    let subscriptions = json!({"type": "array", "minItems": 1, "maxItems": MAX_SUBSCRIPTIONS, "items": subscription()});
    let description = json!({"type": ["string", "null"], "maxLength": MAX_DESCRIPTION_LEN});
    let rate_limit = json!({"type": ["integer", "null"], "minimum": 1, "maximum": MAX_RATE_LIMIT,
        "description": "Deliveries per second at most."});
    for (schema, patch) in [("NewEndpoint", false), ("EndpointPatch", true)] {
        let maybe = |value: Value| if patch { nullable(value) } else { value };
        let at = |field: &str| format!("/{schema}/properties/{field}");
        set(document, &at("url"), maybe(url()));
        set(document, &at("events"), maybe(subscriptions.clone()));
        set(document, &at("event_filters"), maybe(event_filters()));
        set(document, &at("description"), description.clone());
        set(document, &at("headers"), maybe(headers()));
        set(document, &at("metadata"), maybe(metadata()));
        set(document, &at("secret"), nullable(secret()));
        set(document, &at("uid"), nullable(uid()));
        set(document, &at("rate_limit"), rate_limit.clone());
    }
    set(document, "/NewEvent/properties/type", with_description(type_name(), CATALOG));
    set(document, "/NewEvent/properties/entity_id", nullable(entity_id()));
    let batch = json!({"minItems": 1, "maxItems": MAX_EVENTS_PER_BATCH});
    add(document, "/components/schemas/EventBatch/properties/events", batch.clone());
    // The third form of the body: a bare array of events.
    add(document, "/components/schemas/EventsBody/oneOf/2", batch);
    set(document, "/NewKey/properties/name", not_blank(MAX_KEY_NAME_LEN));
    set(
        document,
        "/NewKey/properties/tenant",
        json!({"type": ["string", "null"], "pattern": format!("^[A-Za-z0-9_-]{{1,{MAX_TENANT_LEN}}}$"),
            "description": "The caller's tenant when absent."}),
    );
    for (schema, patch) in [("NewType", false), ("TypePatch", true)] {
        let at = |field: &str| format!("/{schema}/properties/{field}");
        set(
            document,
            &at("description"),
            json!({"type": ["string", "null"], "maxLength": MAX_EVENT_TYPE_DESCRIPTION_LEN}),
        );
        set(document, &at("family"), nullable(not_blank(MAX_FAMILY_LEN)));
        let types = if patch { json!(["object", "boolean", "null"]) } else { json!(["object", "boolean"]) };
        set(
            document,
            &at("schema"),
            json!({"type": types, "description": format!("A JSON Schema (an object, or `true` / `false`; no \
                remote `$ref`, at most {} KiB) that payloads of this type must match.", MAX_SCHEMA_BYTES / 1024)}),
        );
    }
    add(
        document,
        "/components/schemas/Rotation/properties/overlap_seconds",
        json!({"maximum": MAX_ROTATION_OVERLAP.as_secs()}),
    );
    set(document, "/Rotation/properties/secret", nullable(secret()));
    set(document, "/TestRequest/properties/event_type", with_description(nullable(type_name()), CATALOG));
    add(
        document,
        "/components/schemas/RecoverRequest/properties/until",
        json!({"description": "RFC 3339, later than `since`; now when absent."}),
    );
    add_cursors(document);
}

fn with_description(mut schema: Value, description: &str) -> Value {
    schema["description"] = json!(description);
    schema
}

/// The `cursor` query parameter of every list.
fn add_cursors(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else { return };
    for item in paths.values_mut() {
        let Some(get) = item.get_mut("get") else { continue };
        let Some(parameters) = get.get_mut("parameters").and_then(Value::as_array_mut) else { continue };
        for parameter in parameters.iter_mut().filter(|p| p["name"] == "cursor") {
            parameter["schema"] = cursor();
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use webhooks::security::url_guard::UrlPolicy;

    use super::*;

    fn matches(url: &str) -> bool {
        let schema = json!({"type": "string", "pattern": url_pattern()});
        jsonschema::validator_for(&schema).expect("the pattern compiles").is_valid(&json!(url))
    }

    fn accepted(url: &str) -> bool {
        UrlPolicy::default().check_url(url).is_ok()
    }

    #[test]
    fn the_url_pattern_takes_the_common_urls_and_refuses_what_the_policy_refuses() {
        for good in [
            "https://example.com",
            "https://example.com/webhooks?x=1&y=%C3%BC#frag",
            "https://Hooks.EU.prod.example.co.uk:8443/a/b",
            "https://xn--bcher-kva.example./",
            "https://intranet/",
            "https://8.8.8.8/",
            "https://172.32.0.1:65535/",
        ] {
            assert!(matches(good) && accepted(good), "{good}");
        }
        for bad in [
            "http://example.com/",
            "https://localhost/",
            "https://LocalHost.:8080/",
            "https://api.localhost/",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://169.254.169.254/",
            "https://2130706433/",
            "https://example.com:0/",
            "https://example.com:65536/",
            "https://example.com\\@127.0.0.1/",
            "https://user@example.com/",
            "https://exa mple.com/",
            "https://example.com/%zz",
            "https://example.com/{x}",
            "https://a..b/",
            &format!("https://{}.com/", "a".repeat(64)),
        ] {
            assert!(!matches(bad) && !accepted(bad), "{bad}");
        }
    }

    proptest! {
        /// Whatever the pattern takes, the URL policy takes: the document never calls valid a
        /// URL the server refuses.
        #[test]
        fn the_policy_takes_every_url_the_pattern_takes(
            host in "[a-zA-Z0-9.-]{1,24}|[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}|[a-z.]{0,6}localhost\\.?",
            port in proptest::option::of(0u32..70_000),
            rest in "([/?#][A-Za-z0-9%._~:@!$&'()*+,;=\\[\\]/?#-]{0,12})?",
        ) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let url = format!("https://{host}{port}{rest}");
            if matches(&url) {
                prop_assert!(accepted(&url), "{}", url);
            }
        }
    }
}
