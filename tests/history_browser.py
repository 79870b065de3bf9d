"""The console of a service that keeps failures only (`--history failures`): the delivery
log, an event's page and an endpoint's page say what the history leaves out, and the
endpoint's chart still counts the delivery not listed.

Arguments: the service's base URL, an admin key, the id of an endpoint whose one delivery
succeeded at its first attempt, the id of the event, and a folder for screenshots."""

import os
import re
import sys

from playwright.sync_api import expect, sync_playwright

base, key, endpoint, event, shots = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
expect.set_options(timeout=15_000)
NOTE = re.compile(r"keeps failures only: a delivery that succeeded at its first attempt is counted")

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path=os.environ.get("WEBHOOKS_TEST_CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.goto(base + "/console")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Endpoints", exact=True)).to_be_visible()

    page.get_by_role("link", name="Deliveries", exact=True).click()
    expect(page.get_by_role("heading", name="Deliveries", exact=True)).to_be_visible()
    expect(page.get_by_text(NOTE)).to_be_visible()
    # The failed delivery is listed; the one delivered at once is not.
    expect(page.get_by_role("link", name=re.compile(r"^Delivery "))).to_have_count(2)
    page.screenshot(path=os.path.join(shots, "history-failures-deliveries.png"), full_page=True)

    page.goto(f"{base}/console#/events/{event}")
    expect(page.get_by_role("heading", name=f"Event {event}", exact=True)).to_be_visible()
    expect(page.get_by_text(NOTE)).to_be_visible()

    page.goto(f"{base}/console#/endpoints/{endpoint}")
    expect(page.get_by_text(NOTE)).to_be_visible()
    expect(page.get_by_text("No delivery kept yet.")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Deliveries, last 24 hours: 1 delivered, 0 failed"))).to_be_visible()
    page.screenshot(path=os.path.join(shots, "history-failures-endpoint.png"), full_page=True)

    assert not problems, problems
    browser.close()
print("every step passed")
