"""Drives the web console in headless Chromium by its accessible names, as a person (or a
screen reader) would: sign in, create an endpoint with "Select all", show its secret, send a
test and see it delivered; stop the receiver, see an event's delivery fail, start it again
and retry it to delivered, and see both in the chart; then the logs, the catalog, the admin
pages, a read-only key, sign out.

Arguments: the service's base URL, an admin key, a receiver URL that answers 500, and a
folder for screenshots. The receiver that is stopped and started is this script's own.
Exits non-zero on the first expectation that fails."""

import os
import re
import sys
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from playwright.sync_api import expect, sync_playwright

base, key, bad_url, shots = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
expect.set_options(timeout=15_000)


class Receiver(BaseHTTPRequestHandler):
    """Answers 200 to a signed POST; counts what it took."""
    signed = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("webhook-signature"):
            Receiver.signed += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Switch:
    """A receiver that can be stopped (connections refused) and started again on its port."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        self.port = self.server.server_address[1]
        self._run()

    def _run(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def start(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Receiver)
        self._run()


receiver = Switch()
good_url = f"http://127.0.0.1:{receiver.port}/orders"


def reload_until(page, ready):
    """Reloads the page every half second, at most 30 times, until `ready()` holds: what the
    pipeline does in the background shows on a later load."""
    for _ in range(30):
        if ready():
            return
        page.wait_for_timeout(500)
        page.reload()


def api(method, path, body=None):
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path=os.environ.get("WEBHOOKS_TEST_CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete ...?", "Revoke ...?": yes
    # The wrong key's 401 and the refused URL's 400 are expected answers, not problems.
    expected = re.compile(r"^Failed to load resource: the server responded with a status of 40[01] ")
    page.on("console", lambda message: message.type == "error" and not expected.match(message.text)
            and problems.append(f"console: {message.text}"))

    # The root leads to the console, which asks for a key; a wrong one is refused.
    page.goto(base + "/")
    expect(page).to_have_url(base + "/console")
    page.get_by_label("API key", exact=True).fill("whk_" + "x" * 40)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("That API key was not accepted.")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_label("API key", exact=True).press("Enter")  # the keyboard signs in too
    expect(page.get_by_role("heading", name="Endpoints", exact=True)).to_be_visible()
    expect(page.get_by_text("No endpoint yet.")).to_be_visible()

    # A refused URL: the API's error shows next to the field.
    page.get_by_role("link", name="New endpoint", exact=True).click()
    page.get_by_label("URL", exact=True).fill("https://10.0.0.1/hook")
    page.get_by_role("button", name="Select all", exact=True).click()
    page.get_by_role("button", name="Create endpoint", exact=True).click()
    expect(page.locator("#url-error")).to_contain_text("url:")

    # Create one with every event type.
    page.get_by_label("URL", exact=True).fill(good_url)
    page.get_by_label("Description", exact=True).fill("Orders service")
    page.get_by_label("Custom headers", exact=True).fill("X-Team: payments")
    page.get_by_role("button", name="Deselect all", exact=True).click()
    catalog = page.get_by_role("group", name="Event types", exact=True)
    boxes = catalog.get_by_role("checkbox")
    assert boxes.count() >= 10, boxes.count()
    for n in range(boxes.count()):
        expect(boxes.nth(n)).not_to_be_checked()
    page.get_by_role("button", name="Select all run.*", exact=True).click()
    expect(catalog.get_by_role("checkbox", checked=True)).to_have_count(2)
    expect(page.get_by_label("run.failed", exact=True)).to_be_checked()
    page.get_by_role("button", name="Select all", exact=True).click()
    for n in range(boxes.count()):
        expect(boxes.nth(n)).to_be_checked()
    every_type = boxes.count()
    # The search shows only the matching types; "Select all" still meant all of them.
    page.get_by_label("Search event types", exact=True).fill("run.f")
    expect(catalog.get_by_role("checkbox", checked=True)).to_have_count(1)
    expect(page.get_by_label("run.failed", exact=True)).to_be_visible()
    page.get_by_label("Search event types", exact=True).fill("")
    expect(catalog.get_by_role("checkbox")).to_have_count(every_type)
    expect(page.get_by_label("Enabled", exact=True)).to_be_checked()
    expect(page.get_by_label("Signing scheme", exact=True)).to_have_value("hmac_sha256")
    # A filter on a type the endpoint does not take: the API's error shows next to Filters.
    page.get_by_role("button", name="Add filter", exact=True).click()
    page.get_by_label("Filter 1 type", exact=True).fill("nothing.here")
    page.get_by_label("Filter 1 values", exact=True).fill("1, 2")
    page.get_by_role("button", name="Create endpoint", exact=True).click()
    expect(page.locator("#event_filters-error")).to_contain_text("event_filters.nothing.here")
    # Runs only when failed: a payload field's values.
    page.get_by_label("Filter 1 type", exact=True).fill("run.*")
    page.get_by_label("Filter 1 field", exact=True).fill("status")
    page.get_by_label("Filter 1 values", exact=True).fill("failed")
    page.screenshot(path=f"{shots}/new-endpoint.png", full_page=True)
    page.get_by_role("button", name="Create endpoint", exact=True).click()
    expect(page.get_by_role("heading", name=good_url)).to_be_visible()
    endpoint_id = page.url.rsplit("/", 1)[1]
    created = api("GET", f"/v1/webhooks/{endpoint_id}")
    assert created["description"] == "Orders service" and created["headers"] == {"X-Team": "payments"}, created
    assert len(created["events"]) == every_type, created
    assert created["event_filters"] == {"run.*": {"status": ["failed"]}}, created
    # The form shows them again to edit.
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_label("Filter 1 field", exact=True)).to_have_value("status")
    expect(page.get_by_label("Filter 1 values", exact=True)).to_have_value("failed")
    page.go_back()
    expect(page.get_by_role("heading", name=good_url)).to_be_visible()

    # Its secret, then a test sent at once, delivered.
    page.get_by_role("button", name="Show secret", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Standard Webhooks: whsec_"))).to_be_visible()
    page.get_by_role("button", name="Copy secret", exact=True).click()
    expect(page.get_by_text("Copied.", exact=True)).to_be_visible()
    secret = api("GET", f"/v1/webhooks/{endpoint_id}/secret")["secret"]
    assert page.evaluate("navigator.clipboard.readText()") == secret, "the secret is on the clipboard"
    page.get_by_role("button", name="Send test", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Delivered: HTTP 200 in \d+ ms$"))).to_be_visible()

    # A reload keeps the tab signed in; the delivery is in the table.
    page.reload()
    expect(page.get_by_role("heading", name=good_url)).to_be_visible()
    expect(page.get_by_role("cell", name="delivered", exact=True)).to_be_visible()

    # The receiver stops: an event's delivery fails (no retry in this service).
    receiver.stop()
    api("POST", "/v1/events", {"type": "workflow.failed", "payload": {"workflow_id": "w_1"}})
    reload_until(page, lambda: page.get_by_role("cell", name="failed", exact=True).count())
    expect(page.get_by_role("cell", name="failed", exact=True)).to_be_visible()
    # It starts again: the failed delivery, retried from its page, is delivered.
    receiver.start()
    page.get_by_role("link", name=re.compile(r"^Delivery del_")).first.click()
    expect(page.get_by_text('"workflow_id": "w_1"')).to_be_visible()
    # The headers its attempt sent, signature included; the custom one's value too (admin).
    expect(page.get_by_role("rowheader", name="webhook-signature", exact=True)).to_be_visible()
    expect(page.get_by_role("row", name="X-Team payments", exact=True)).to_be_visible()
    page.get_by_role("button", name="Retry", exact=True).click()
    expect(page.get_by_text("Queued again: pending")).to_be_visible()
    page.get_by_role("link", name="Back to the endpoint", exact=True).click()
    chart = page.get_by_role("img", name=re.compile(r"^Deliveries, last 24 hours: "))
    # The counts are written within a second of the delivery.
    reload_until(page, lambda: page.get_by_role("cell", name="failed", exact=True).count() == 0 and chart.count()
                 and chart.get_attribute("aria-label").startswith("Deliveries, last 24 hours: 2 delivered, 1 failed"))
    expect(page.get_by_role("cell", name="delivered", exact=True)).to_have_count(2)
    expect(chart).to_have_accessible_name(
        "Deliveries, last 24 hours: 2 delivered, 1 failed, 0 retried; failure rate 33.3%")
    page.get_by_role("button", name="7 days", exact=True).click()
    expect(page.get_by_role("img", name=re.compile(r"^Deliveries, last 7 days: 2 delivered, 1 failed"))).to_be_visible()
    expect(page.get_by_role("button", name="7 days", exact=True)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="24 hours", exact=True).click()
    expect(chart).to_be_visible()
    page.screenshot(path=f"{shots}/endpoint.png", full_page=True)

    # An endpoint whose receiver fails: the failed delivery, retried from its page.
    failing = api("POST", "/v1/webhooks", {"url": bad_url, "events": ["run.failed"]})
    api("POST", "/v1/events", {"type": "run.failed", "payload": {"run_id": "r_1"}})
    page.goto(f"{base}/console#/endpoints/{failing['id']}")
    reload_until(page, lambda: page.get_by_role("cell", name="failed", exact=True).count())
    expect(page.get_by_role("cell", name="failed", exact=True)).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Delivery del_")).first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Delivery del_"))).to_be_visible()
    expect(page.get_by_text('"run_id": "r_1"')).to_be_visible()
    page.screenshot(path=f"{shots}/delivery.png", full_page=True)
    page.get_by_role("button", name="Retry", exact=True).click()
    expect(page.get_by_text("Queued again: pending")).to_be_visible()
    # Every failed delivery of the last day, sent again by a background job.
    page.get_by_role("link", name="Back to the endpoint", exact=True).click()
    page.get_by_role("button", name="Recover", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Queued: every failed delivery since "))).to_be_visible()

    # The tenant's delivery log, filtered by status.
    page.get_by_role("link", name="Deliveries", exact=True).click()
    expect(page.get_by_role("heading", name="Deliveries", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="delivered", exact=True).first).to_be_visible()
    page.get_by_label("Status", exact=True).select_option("failed")
    expect(page).to_have_url(re.compile(r"#/deliveries\?status=failed$"))
    expect(page.get_by_role("cell", name="delivered", exact=True)).to_have_count(0)
    # The retry above fails again within a poll or two.
    reload_until(page, lambda: page.get_by_role("link", name=failing["id"], exact=True).count())
    expect(page.get_by_role("link", name=failing["id"], exact=True).first).to_be_visible()
    page.screenshot(path=f"{shots}/deliveries.png", full_page=True)

    # The event log, filtered by type; an event with its payload and where it went.
    page.get_by_role("link", name="Events", exact=True).click()
    expect(page.get_by_role("heading", name="Events", exact=True)).to_be_visible()
    page.get_by_label("Event type", exact=True).select_option("run.failed")
    expect(page).to_have_url(re.compile(r"#/events\?type=run\.failed$"))
    events = page.get_by_role("link", name=re.compile(r"^evt_"))
    expect(events).to_have_count(1)
    events.first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Event evt_"))).to_be_visible()
    expect(page.get_by_text('"run_id": "r_1"')).to_be_visible()
    expect(page.get_by_role("link", name=failing["id"], exact=True)).to_be_visible()
    page.screenshot(path=f"{shots}/event.png", full_page=True)
    page.get_by_label("Event type", exact=True).count() == 0 or sys.exit("the event page has no filter")

    # The catalog, by family.
    page.get_by_role("link", name="Event types", exact=True).click()
    expect(page.get_by_role("heading", name="Event types", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="run", exact=True)).to_be_visible()
    expect(page.get_by_text("run.failed", exact=True)).to_be_visible()
    # The tenant's own type: created with a schema, archived, deleted.
    page.get_by_label("Name", exact=True).fill("invoice.paid")
    page.get_by_label("Description", exact=True).fill("An invoice was paid")
    page.get_by_label("Payload schema", exact=True).fill('{"type": "object", "required": ["invoice_id"]}')
    page.get_by_role("button", name="Create event type", exact=True).click()
    expect(page.get_by_role("heading", name="invoice", exact=True)).to_be_visible()
    expect(page.get_by_text("An invoice was paid (your own)", exact=True)).to_be_visible()
    refused = None
    try:
        api("POST", "/v1/events", {"type": "invoice.paid", "payload": {"amount": 3}})
    except urllib.error.HTTPError as error:
        refused = error.code
    assert refused == 400, f"the schema holds: {refused}"
    # Edited in place: a new description, and no schema any more.
    page.get_by_role("button", name="Edit invoice.paid", exact=True).click()
    expect(page.get_by_role("heading", name="Edit invoice.paid", exact=True)).to_be_visible()
    page.get_by_label("Description", exact=True).fill("A paid invoice")
    page.get_by_label("Payload schema", exact=True).fill("")
    page.get_by_role("button", name="Save event type", exact=True).click()
    expect(page.get_by_text("A paid invoice (your own)", exact=True)).to_be_visible()
    api("POST", "/v1/events", {"type": "invoice.paid", "payload": {"amount": 3}})
    page.get_by_role("button", name="Archive invoice.paid", exact=True).click()
    expect(page.get_by_text("A paid invoice (your own) (archived)", exact=True)).to_be_visible()
    page.get_by_role("button", name="Delete invoice.paid", exact=True).click()
    expect(page.get_by_text("invoice.paid", exact=True)).to_have_count(0)
    page.screenshot(path=f"{shots}/event-types.png", full_page=True)

    # Admin pages: a key minted (shown once) and revoked (after a confirmation), dead letters.
    page.get_by_role("link", name="API keys", exact=True).click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    page.get_by_label("Name", exact=True).fill("reader")
    page.get_by_label("webhooks:read", exact=True).check()
    page.get_by_role("button", name="Create key", exact=True).click()
    shown = page.get_by_text(re.compile(r"^The key of reader, shown this once: whk_"))
    expect(shown).to_be_visible()
    reader_key = shown.locator("code").inner_text()
    page.screenshot(path=f"{shots}/api-keys.png", full_page=True)
    page.get_by_role("link", name="Dead letters", exact=True).click()
    expect(page.get_by_role("heading", name="The events queue: 0 waiting", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Redrive deliveries", exact=True)).to_be_disabled()

    # A read-only key sees the endpoints but no admin page.
    reader = context.new_page()
    reader.goto(base + "/console")
    reader.get_by_label("API key", exact=True).fill(reader_key)
    reader.get_by_role("button", name="Sign in", exact=True).click()
    expect(reader.get_by_role("link", name=good_url, exact=True)).to_be_visible()
    expect(reader.get_by_role("link", name="Events", exact=True)).to_be_visible()
    expect(reader.get_by_role("link", name="API keys", exact=True)).to_be_hidden()
    expect(reader.get_by_role("link", name="Dead letters", exact=True)).to_be_hidden()
    # It is offered nothing it may not do: no new endpoint, no secret, no change.
    expect(reader.get_by_role("link", name="New endpoint", exact=True)).to_have_count(0)
    reader.get_by_role("link", name=good_url, exact=True).click()
    expect(reader.get_by_role("heading", name=good_url, exact=True)).to_be_visible()
    expect(reader.get_by_role("cell", name="delivered", exact=True).first).to_be_visible()
    for control in ["Show secret", "Rotate secret", "Disable", "Delete", "Send test"]:
        expect(reader.get_by_role("button", name=control, exact=True)).to_have_count(0)
    reader.get_by_role("link", name=re.compile(r"^Delivery del_")).first.click()
    expect(reader.get_by_role("heading", name=re.compile(r"^Delivery del_"))).to_be_visible()
    expect(reader.get_by_role("button", name="Retry", exact=True)).to_have_count(0)
    reader.screenshot(path=f"{shots}/read-only.png", full_page=True)
    reader.close()
    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Revoke reader ")).click()
    expect(page.get_by_role("cell", name="reader", exact=True)).to_have_count(0)
    try:
        api_as = urllib.request.Request(base + "/v1/webhooks", headers={"Authorization": f"Bearer {reader_key}"})
        urllib.request.urlopen(api_as)
        sys.exit("a revoked key still works")
    except urllib.error.HTTPError as refused:
        assert refused.code == 401, refused.code

    # The list shows both; signing out forgets the key, and a new tab asks for one.
    page.get_by_role("link", name="Endpoints", exact=True).click()
    expect(page.get_by_role("link", name=good_url)).to_be_visible()
    expect(page.get_by_role("link", name=bad_url)).to_be_visible()
    # Each endpoint's last 24 hours: the test and the retried delivery, 2 delivered of 3 (run
    # r_1 has no "status": "failed", so the endpoint's filter kept it away).
    good_row = page.get_by_role("row").filter(has=page.get_by_role("link", name=good_url, exact=True))
    expect(good_row).to_contain_text("66.7% of 3")
    page.screenshot(path=f"{shots}/endpoints.png", full_page=True)

    # A long history is paged: 50 deliveries a page, then "Older deliveries".
    api("POST", "/v1/events", {"events": [{"type": "policy.updated", "payload": {"n": n}} for n in range(55)]})
    page.get_by_role("link", name=good_url, exact=True).click()
    details = page.get_by_role("link", name=re.compile(r"^Delivery del_"))
    reload_until(page, lambda: page.get_by_role("cell", name="policy.updated", exact=True).count() == 50
                 and page.get_by_role("link", name="Older deliveries", exact=True).count())
    expect(details).to_have_count(50)
    page.get_by_role("link", name="Older deliveries", exact=True).click()
    expect(details).to_have_count(7)  # 5 more, the workflow's and the test
    expect(page.get_by_role("link", name="Older deliveries", exact=True)).to_have_count(0)
    # The endpoint's history filtered, as the tenant's log is.
    page.get_by_label("Event type", exact=True).select_option("workflow.failed")
    expect(page).to_have_url(re.compile(r"\?event_type=workflow\.failed$"))
    expect(details).to_have_count(1)
    expect(page.get_by_role("cell", name="workflow.failed", exact=True)).to_be_visible()
    other = context.new_page()
    other.goto(base + "/console")
    expect(other.get_by_label("API key", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_label("API key", exact=True)).to_be_visible()
    page.reload()
    expect(page.get_by_label("API key", exact=True)).to_be_visible()

    browser.close()
    receiver.stop()
    if problems:
        sys.exit("\n".join(problems))
    # The test, the retried delivery and the 55 policy updates (run r_1 was filtered away).
    if Receiver.signed != 57:
        sys.exit(f"the receiver took {Receiver.signed} signed deliveries, not 57")
print("console: every step passed")
