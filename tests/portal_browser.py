"""Drives the customer portal in headless Chromium: the console opened by portal sessions'
URLs inside an <iframe> of a page on another origin, by the pages' accessible names.

Arguments: the service's base URL, a JSON object of the sessions minted for the test (full,
limited, revoked, expired: each with its url and token, and the endpoints' URLs), and a
folder for screenshots. Exits non-zero on the first expectation that fails."""

import html
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect, sync_playwright

base, sessions, shots = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
os.makedirs(shots, exist_ok=True)
expect.set_options(timeout=15_000)


class Host(BaseHTTPRequestHandler):
    """Another site: a page that embeds the URL it is given in an iframe."""

    def do_GET(self):
        src = parse_qs(urlparse(self.path).query).get("src")
        if not src:
            self.send_error(404)
            return
        src = src[0]
        page = (f'<!doctype html><title>Acme settings</title><h1>Acme settings</h1>'
                f'<iframe title="Webhooks portal" src="{html.escape(src)}" width="1100" height="900"></iframe>')
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


host = ThreadingHTTPServer(("127.0.0.1", 0), Host)
threading.Thread(target=host.serve_forever, daemon=True).start()
host_base = f"http://127.0.0.1:{host.server_address[1]}"
assert host_base != base


def embedded(page, url):
    """Opens the other site's page embedding `url`; answers the frame."""
    page.goto(f"{host_base}/?src={urllib.request.quote(url, safe='')}")
    expect(page.get_by_role("heading", name="Acme settings", exact=True)).to_be_visible()
    return page.frame_locator('iframe[title="Webhooks portal"]')


def api(token, method, path, body=None):
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path=os.environ.get("WEBHOOKS_TEST_CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    a_url, b_url, other_url = sessions["endpoints"]

    # The full session, branded: the tenant's endpoints only, no admin page, changes offered.
    full = sessions["full"]
    frame = embedded(page, full["url"] + "&primary=aa0055&theme=dark")
    expect(frame.get_by_role("heading", name="Endpoints", exact=True)).to_be_visible()
    expect(frame.get_by_role("link", name=a_url, exact=True)).to_be_visible()
    expect(frame.get_by_role("link", name=b_url, exact=True)).to_be_visible()
    expect(frame.get_by_role("link", name=other_url, exact=True)).to_have_count(0)
    for admin in ["API keys", "Dead letters"]:
        expect(frame.get_by_role("link", name=admin, exact=True)).to_be_hidden()
    expect(frame.get_by_role("link", name="Events", exact=True)).to_be_visible()
    expect(frame.get_by_role("link", name="New endpoint", exact=True)).to_be_visible()
    # The product's colour: the navigation's links are drawn in it.
    expect(frame.get_by_role("link", name="Endpoints", exact=True)).to_have_css("color", "rgb(170, 0, 85)")
    expect(frame.locator("body")).to_have_class("dark")
    frame.get_by_role("link", name=a_url, exact=True).click()
    expect(frame.get_by_role("heading", name=a_url, exact=True)).to_be_visible()
    frame.get_by_role("button", name="Send test", exact=True).click()
    expect(frame.get_by_text("Delivered: HTTP 200", exact=False)).to_be_visible()
    expect(frame.get_by_role("img", name="Deliveries, last 24 hours: 1 delivered, 0 failed, 0 retried; failure rate 0%")) \
        .to_be_visible()
    # The token left the address at once: no history entry holds it.
    inner = next(f for f in page.frames if f != page.main_frame)
    assert "portal=" not in inner.url, inner.url
    page.screenshot(path=f"{shots}/portal.png", full_page=True)

    # Branding without the top bar, and with the product's logo (an https image).
    bare = context.new_page()
    frame = embedded(bare, full["url"] + "&nav=hidden&logo=https%3A%2F%2Fcdn.example.com%2Flogo.png")
    expect(frame.get_by_role("heading", name="Endpoints", exact=True)).to_be_visible()
    expect(frame.get_by_role("link", name="Event types", exact=True)).to_be_hidden()
    expect(frame.get_by_role("button", name="Sign out", exact=True)).to_be_hidden()
    expect(frame.locator("#logo")).to_have_attribute("src", "https://cdn.example.com/logo.png")
    bare.close()

    # The read-only session limited to one endpoint: that one, and nothing to change.
    limited = sessions["limited"]
    reader = context.new_page()
    frame = embedded(reader, limited["url"])
    expect(frame.get_by_role("link", name=a_url, exact=True)).to_be_visible()
    expect(frame.get_by_role("link", name=b_url, exact=True)).to_have_count(0)
    expect(frame.get_by_role("link", name="New endpoint", exact=True)).to_have_count(0)
    for tenant_wide in ["Events", "Deliveries", "API keys", "Dead letters"]:
        expect(frame.get_by_role("link", name=tenant_wide, exact=True)).to_be_hidden()
    frame.get_by_role("link", name=a_url, exact=True).click()
    expect(frame.get_by_role("heading", name=a_url, exact=True)).to_be_visible()
    expect(frame.get_by_role("cell", name="delivered", exact=True)).to_be_visible()
    for control in ["Show secret", "Rotate secret", "Disable", "Delete", "Send test", "Edit"]:
        expect(frame.get_by_role("button", name=control, exact=True)).to_have_count(0)
    expect(frame.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    reader.screenshot(path=f"{shots}/portal-read-only.png", full_page=True)
    # The API refuses what the page does not offer, with the same token.
    endpoint_id = sessions["limited_endpoint"]
    assert api(limited["token"], "PATCH", f"/v1/webhooks/{endpoint_id}", {"description": "x"}) == 403
    assert api(limited["token"], "DELETE", f"/v1/webhooks/{endpoint_id}") == 403
    assert api(limited["token"], "GET", f"/v1/webhooks/{sessions['other_endpoint']}") == 404
    assert api(limited["token"], "GET", "/v1/api-keys") == 403

    # Revoked and expired sessions: refused, and the page says so.
    for name in ["revoked", "expired"]:
        ended = context.new_page()
        frame = embedded(ended, sessions[name]["url"])
        expect(frame.get_by_role("alert")).to_have_text(
            "This portal session has expired or was revoked. Ask for a new link.")
        expect(frame.get_by_label("API key", exact=True)).to_have_count(0)
        assert api(sessions[name]["token"], "GET", "/v1/me") == 401, name
        ended.close()

    browser.close()
    host.shutdown()
    if problems:
        sys.exit("\n".join(problems))
print("portal: every step passed")
