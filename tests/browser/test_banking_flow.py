"""Issue 3 in a real browser: a teller finds a customer, asks for a deposit (shown for
confirmation first) without a full page reload, an approver approves the request in the
inbox, and the customer sees it on their own statement.

The customer is Ada, not the demo's main customer: Casey's pending demo payments bring her
24-hour total past 10,000.00, so any deposit of hers needs two approvers (see
tests/browser/test_inbox_flow.py for that walk)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from vaulta.ops.seeding.demo import APPROVER_EMAIL, TELLER_EMAIL
from vaulta.ops.seeding.demo_payments import BENEFICIARY_EMAIL


def test_teller_deposit_then_customer_statement(
    live_server: str, page: Page, open_page: Callable[[], Page]
) -> None:
    description = f"Branch deposit {uuid.uuid4().hex[:8]}"
    sign_in(page, live_server, TELLER_EMAIL)
    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.evaluate("window.__noReload = true")
    page.get_by_role("searchbox", name="Search customers").fill("Lovelace")
    results = page.locator("#customer-results")
    expect(results.get_by_role("row")).to_have_count(2)  # header + Ada
    expect(page).to_have_url(re.compile(r"q=Lovelace"))  # the search is kept in history
    assert page.evaluate("window.__noReload") is True  # live search swapped the table only
    results.get_by_role("row", name=re.compile("Ada Lovelace")).get_by_role("link").click()
    page.locator("#customer-accounts").get_by_role("row", name=re.compile("EUR")).get_by_role(
        "link"
    ).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Account \d{10}$"))).to_be_visible()
    before = page.locator("#account-balance").inner_text()

    page.evaluate("window.__noReload = true")
    deposit = page.locator("#deposit-form")
    deposit.get_by_label("Amount").fill("12.34")
    deposit.get_by_label("Description").fill(description)
    deposit.get_by_role("button", name="Deposit").click()
    # The confirmation step shows the amount as it will be posted; Change brings the form
    # back filled in, and only Confirm posts.
    expect(deposit).to_contain_text("12.34 EUR")
    expect(deposit).to_contain_text(description)
    assert page.locator("#account-balance").inner_text() == before
    deposit.get_by_role("button", name="Change").click()
    expect(deposit.get_by_label("Amount")).to_have_value("12.34")
    deposit.get_by_role("button", name="Deposit").click()
    deposit.get_by_role("button", name="Confirm deposit").click()

    # A change request now waits for an approver: nothing has moved yet.
    notice = page.locator("#request-notice")
    expect(notice).to_contain_text("12.34 EUR awaits approval.")
    assert page.evaluate("window.__noReload") is True  # swapped by htmx, not reloaded
    assert page.locator("#account-balance").inner_text() == before
    href = notice.get_by_role("link").get_attribute("href")
    assert href is not None
    request_id = href.rsplit("/", 1)[-1]

    approver = open_page()
    sign_in(approver, live_server, APPROVER_EMAIL)
    approver.goto(live_server + "/admin/inbox")
    row = approver.locator(f"#request-row-{request_id}")
    expect(row).to_contain_text("Deposit 12.34 EUR")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_have_attribute("data-status", "approved")

    page.reload()
    expect(page.locator("#account-panel")).to_contain_text(description)
    after = page.locator("#account-balance").inner_text()
    assert _amount(after) - _amount(before) == 1234

    customer = open_page()
    sign_in(customer, live_server, BENEFICIARY_EMAIL)
    customer.get_by_role("row", name=re.compile("EUR")).get_by_role("link").click()
    expect(customer.locator("#statement table")).to_contain_text(description)
    expect(customer.locator("#statement table")).to_contain_text("12.34")


def _amount(text: str) -> int:
    """'2,458.09 EUR' -> 245809 minor units."""
    digits = re.sub(r"[^0-9.\-]", "", text)
    whole, _, fraction = digits.partition(".")
    return int(whole) * 100 + int(fraction or 0)
