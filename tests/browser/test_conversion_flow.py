"""Issue 16 in a real browser: the demo customer converts EUR into USD on her EUR account's
page: the quote appears while she types (htmx, no inline script under the CSP), and
"Convert now" posts it within its validity."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from vaulta.ops.seeding.demo import CUSTOMER_EMAIL


def test_customer_converts_eur_into_usd(live_server: str, page: Page) -> None:
    sign_in(page, live_server, CUSTOMER_EMAIL)
    page.get_by_role("row", name=re.compile("EUR")).get_by_role("link").first.click()
    form = page.locator("#conversion")
    expect(form).to_be_visible()
    page.evaluate("window.__noReload = true")
    form.get_by_label("Amount to convert").fill("10.00")
    quote = page.locator("#conversion-quote")
    expect(quote).to_contain_text("You pay 10.00 EUR")  # fetched while typing
    expect(quote).to_contain_text("USD")
    assert page.evaluate("window.__noReload") is True  # swapped by htmx, not reloaded
    quote.get_by_role("button", name="Convert now").click()
    expect(page.locator("body")).to_contain_text(
        re.compile(r"Converted 10\.00 EUR into [\d.]+ USD\.")
    )
