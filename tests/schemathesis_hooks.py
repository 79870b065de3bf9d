"""Schemathesis hooks for the OpenAPI test (tests/tests/openapi.rs).

Generated `Idempotency-Key` values are short and repeat ("0", "00"), so two generated POSTs
would share a key: the second gets the first's answer again, or a 422, as the header's
contract says, which the fuzzer cannot tell from a fault (a key created, then deleted, is
"created" again by a replay). A valid key is made unique here; an invalid one is left for
the API to refuse. The replay itself is tested in tests/tests/idempotency.rs.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook("map_headers")
def unique_idempotency_keys(context, headers):
    if headers:
        key = headers.get("Idempotency-Key")
        if isinstance(key, str) and VALID_KEY.match(key):
            headers["Idempotency-Key"] = uuid.uuid4().hex
    return headers
