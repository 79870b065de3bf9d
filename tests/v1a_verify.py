"""Verifies a Standard Webhooks asymmetric signature (v1a, ed25519) as a receiver would,
with pyca/cryptography and nothing of the service's: reads {"public_key": "whpk_...",
"body": hex, "headers": {...}} on stdin, prints "verified" or exits non-zero.

The signed content is "{webhook-id}.{webhook-timestamp}.{body}"; webhook-signature lists
space-separated "version,base64" signatures, of which one v1a must verify.
"""

import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

args = json.loads(sys.stdin.read())
public_key = args["public_key"]
assert public_key.startswith("whpk_"), public_key
key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key[len("whpk_"):]))
headers = args["headers"]
signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + bytes.fromhex(args["body"])
for entry in headers["webhook-signature"].split(" "):
    version, _, signature = entry.partition(",")
    if version != "v1a":
        continue
    try:
        key.verify(base64.b64decode(signature), signed)
    except InvalidSignature:
        continue
    print("verified")
    sys.exit(0)
print("no v1a signature verifies", file=sys.stderr)
sys.exit(1)
