#!/usr/bin/env python3
"""A webhook receiver for trying the service out: prints each delivery and checks its
signature when WEBHOOK_SECRET is set. Usage: WEBHOOK_SECRET=... python3 scripts/receiver.py [port]"""
import hashlib
import hmac
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ.get("WEBHOOK_SECRET", "")


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print(f"--- {self.headers['X-Webhook-Event']} delivery {self.headers['X-Webhook-Delivery']}")
        print(body.decode("utf-8", "replace"))
        if SECRET:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            valid = hmac.compare_digest(expected, self.headers.get("X-Webhook-Signature", ""))
            print("signature:", "valid" if valid else "INVALID")
        sys.stdout.flush()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    print(f"receiving on http://127.0.0.1:{port}/")
    sys.stdout.flush()
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
