"""Schemathesis hooks for the OpenAPI test (tests/tests/openapi.rs).

The document states every limit a schema can state; these hooks supply, for the requests
schemathesis generates as valid, what a schema cannot know, and only that. Every value they
put in is itself valid by the document, so the check that valid data is accepted still judges
the server:

- state: which event types the tenant's catalog holds (the default catalog, read from
  shared/catalog; the operational types for the operational webhooks), which endpoints a portal session may name (none is known: it names none), that a cursor is one a list gave (a generated one is left out), that an
  `Idempotency-Key` was not used before with
  another request (each valid key is made unique; the replay itself is tested in
  tests/tests/idempotency.rs);
- rules across fields: a filter's key selects a type the endpoint subscribes to, `until` is
  after `since` (and a stats span is within the 31 days counts are kept), `signing` agrees
  with a given secret;
- what only a computation decides: a `whsk_` secret is a real ed25519 key pair, a type's
  `schema` is a valid JSON Schema.
"""

import base64
import json
import re
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

VALID_KEY = re.compile(r"^[!-~]{1,255}$")

CATALOG = [
    entry["type"]
    for entry in json.loads((Path(__file__).parent.parent / "shared/catalog/event_types.json").read_text())
]
SUBSCRIPTIONS = sorted(
    {"*", *CATALOG, *(name.rsplit(".", 1)[0] + ".*" for name in CATALOG)}
)
# What an operational webhook may subscribe to (docs/operational-webhooks.md).
OPERATIONAL = [
    "endpoint.created", "endpoint.updated", "endpoint.deleted", "endpoint.disabled", "endpoint.enabled",
    "delivery.failing", "delivery.exhausted", "delivery.recovered",
]
OPERATIONAL_SUBSCRIPTIONS = sorted({"*", "endpoint.*", "delivery.*", *OPERATIONAL})


def _ed25519_secret() -> str:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "whsk_" + base64.b64encode(private + public).decode()


ED25519_SECRET = _ed25519_secret()


def _pick(choices, value):
    """One of `choices`, the same one for the same generated value."""
    return choices[zlib.crc32(json.dumps(value, sort_keys=True).encode()) % len(choices)]


def _endpoint(body, subscriptions=SUBSCRIPTIONS):
    if not isinstance(body, dict):
        return
    events = body.get("events")
    if isinstance(events, list):
        body["events"] = [_pick(subscriptions, item) for item in events]
        if body.get("event_filters") is None and "*" not in body["events"]:
            # A PATCH keeps the stored filters, whose keys must stay subscribed: `*` keeps them.
            body["events"] = body["events"][:499] + ["*"]
    filters = body.get("event_filters")
    if isinstance(filters, dict) and filters:
        # Each key must select a subscribed type: the subscriptions themselves do, and `*`
        # does for whatever the stored endpoint subscribes to (a PATCH without `events`).
        keys = list(dict.fromkeys(body["events"])) if isinstance(body.get("events"), list) else ["*"]
        body["event_filters"] = dict(zip(keys, filters.values()))
    _secret(body)


def _secret(body):
    if not isinstance(body, dict):
        return
    secret = body.get("secret")
    if isinstance(secret, str) and secret.startswith("whsk_"):
        body["secret"] = secret = ED25519_SECRET
    if isinstance(secret, str) and body.get("signing") is not None:
        body["signing"] = "ed25519" if secret.startswith("whsk_") else "hmac_sha256"


def _events(body):
    events = body.get("events") if isinstance(body, dict) and "events" in body else body
    for event in events if isinstance(events, list) else [events]:
        if isinstance(event, dict) and isinstance(event.get("type"), str):
            event["type"] = _pick(CATALOG, event["type"])


def _event_type(body):
    if not isinstance(body, dict) or not isinstance(body.get("schema"), (dict, bool)):
        return
    try:
        jsonschema.Draft202012Validator.check_schema(body["schema"])
    except jsonschema.exceptions.SchemaError:
        body["schema"] = {}


def _test(body):
    if isinstance(body, dict) and isinstance(body.get("event_type"), str):
        body["event_type"] = _pick(CATALOG, body["event_type"])


def _instant(text):
    try:
        instant = datetime.fromisoformat(text.upper())
    except (AttributeError, ValueError):
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


def _stats(query):
    # The span asked for: at most 31 days long, starting at most 31 days ago (an hour spare).
    now = datetime.now(timezone.utc)
    until = _instant(query["until"]) if "until" in query else now
    since = _instant(query["since"]) if "since" in query else until and until - timedelta(hours=24)
    kept = timedelta(days=31) - timedelta(hours=1)
    if since is None or until is None or not (since < until and until - since <= kept and since >= now - kept):
        query.pop("since", None)
        query.pop("until", None)


def _portal_session(body):
    # Endpoints the tenant has: none is known here, so a session of every endpoint.
    if isinstance(body, dict):
        body.pop("endpoints", None)


def _recover(body):
    if isinstance(body, dict) and body.get("until") is not None:
        since, until = _instant(body.get("since")), _instant(body["until"])
        if since is None or until is None or until <= since:
            del body["until"]


VALID_BODIES = {
    ("POST", "/v1/webhooks"): _endpoint,
    ("PATCH", "/v1/webhooks/{id}"): _endpoint,
    ("POST", "/v1/operational-webhooks"): lambda body: _endpoint(body, OPERATIONAL_SUBSCRIPTIONS),
    ("PATCH", "/v1/operational-webhooks/{id}"): lambda body: _endpoint(body, OPERATIONAL_SUBSCRIPTIONS),
    ("POST", "/v1/webhooks/{id}/secret/rotate"): _secret,
    ("POST", "/v1/events"): _events,
    ("POST", "/v1/event-types"): _event_type,
    ("PATCH", "/v1/event-types/{name}"): _event_type,
    ("POST", "/v1/webhooks/{id}/test"): _test,
    ("POST", "/v1/webhooks/{id}/recover"): _recover,
    ("POST", "/v1/portal-sessions"): _portal_session,
}


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Only requests generated as valid are touched: a change to an invalid one would make
    # schemathesis judge it again, as valid, and send what it meant to leave out.
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.match(key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    if case.query and (case.method.upper(), case.operation.path) == ("GET", "/v1/webhooks/{id}/stats"):
        _stats(case.query)
    fix = VALID_BODIES.get((case.method.upper(), case.operation.path))
    if fix is not None and not isinstance(case.body, schemathesis.core.NotSet):
        fix(case.body)
