"""A customer sets up a standing order in Chromium (from Payments → Standing orders → New)
and sees it on its page and in their list; no console errors (tests/browser/conftest.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from tests.browser.test_payments_flow import _first_eur_account
from vaulta.ops.seeding.demo import CUSTOMER_EMAIL

pytestmark = pytest.mark.browser


def test_customer_sets_up_a_standing_order_and_sees_it_listed(live_server: str, page: Page) -> None:
    sign_in(page, live_server, CUSTOMER_EMAIL)
    source, _ = _first_eur_account(page, live_server)
    page.goto(live_server + "/payments/")
    page.get_by_role("button", name="Standing orders").click()
    expect(page.get_by_role("heading", name="Standing orders")).to_be_visible()
    page.get_by_role("button", name="New standing order").click()
    form = page.locator("#standing-order-form")
    form.locator("select[name=from_account]").select_option(source)
    form.locator("input[name=beneficiary_name]").fill("Browser Landlord")
    form.locator("input[name=beneficiary_iban]").fill("DE89 3704 0044 0532 0130 00")
    form.locator("input[name=amount]").fill("12.34")
    form.locator("input[name=reference]").fill("Rent by browser")
    form.locator("select[name=frequency]").select_option("weekly")
    form.locator("input[name=first_date]").fill(date.today().isoformat())
    form.locator("input[name=max_runs]").fill("3")
    form.get_by_role("button", name="Set up standing order").click()
    expect(page).to_have_url(re.compile(r"/payments/standing-orders/\d+$"))
    order_id = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_role("heading", name=f"Standing order #{order_id}")).to_be_visible()
    expect(page.get_by_text("is set up")).to_be_visible()

    page.goto(live_server + "/payments/standing-orders")
    row = page.locator(f"#standing-order-{order_id}")
    expect(row).to_contain_text("Rent by browser")
    expect(row).to_contain_text("12.34")
    expect(row).to_contain_text("week")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text(source)
