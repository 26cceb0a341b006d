"""Webhooks in a real browser: an admin adds an endpoint (a receiver on 127.0.0.1), copies
the secret shown once, sends a test event and sees its delivery in the log; the receiver
verifies the signature with ``standardwebhooks``."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from tests.browser.test_banking_flow import sign_in
from tests.webhook_receiver import receiver
from vaulta.ops.seeding.demo import ADMIN_EMAIL


def test_add_an_endpoint_and_see_a_delivery_in_its_log(live_server: str, page: Page) -> None:
    with receiver() as hook:
        sign_in(page, live_server, ADMIN_EMAIL)
        page.get_by_role("link", name="Webhooks").click()
        expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
        page.get_by_label("URL").fill(hook.url)
        page.get_by_label("Event types").select_option(["customer.*"])
        page.get_by_label("Description").fill("Browser receiver")
        page.get_by_role("button", name="Add endpoint").click()
        secret = page.locator("#webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        page.get_by_role("link", name="Go to the endpoint").click()
        expect(page.locator("#delivery-log")).to_contain_text("No deliveries yet.")
        page.get_by_role("button", name="Send a test event").click()
        log = page.locator("#delivery-log")
        expect(log).to_contain_text("webhook.test")
        expect(log).to_contain_text("delivered")
        expect(log).to_contain_text("succeeded · 200")
        assert secret not in page.content()
    # The test event, and the customer.* events the demo seed left waiting in the outbox.
    verified = [Webhook(secret).verify(got.body, got.headers) for got in hook.received]
    assert "webhook.test" in [message["type"] for message in verified]
    assert {message["type"] for message in verified} <= {"webhook.test", "customer.created"}
