"""Four eyes in a real browser (issue 15): a teller asks for a deposit of 10,000.00, the
approver approves the first level in the inbox, the second approver asks for a mailed
one-time code, types it and approves; only then does the balance move. No page reloads in
the inbox, and no console errors (tests/browser/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from tests.browser.test_banking_flow import _amount
from vaulta.ops.seeding.demo import APPROVER_EMAIL, SECOND_APPROVER_EMAIL, TELLER_EMAIL


def _open_account(page: Page, base: str, name: str) -> None:
    page.goto(base + "/admin/customers/")
    page.get_by_role("searchbox", name="Search customers").fill(name)
    results = page.locator("#customer-results")
    results.get_by_role("row", name=re.compile(name)).get_by_role("link").click()
    page.locator("#customer-accounts").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Account \d{10}$"))).to_be_visible()


def test_teller_approver_and_second_approver_with_a_one_time_code(
    live_server: str, page: Page, open_page: Callable[[], Page]
) -> None:
    sign_in(page, live_server, TELLER_EMAIL)
    _open_account(page, live_server, "Barbara Liskov")
    before = page.locator("#account-balance").inner_text()
    deposit = page.locator("#deposit-form")
    deposit.get_by_label("Amount").fill("10,000.00")
    deposit.get_by_label("Description").fill("Large cash deposit")
    deposit.get_by_role("button", name="Deposit").click()
    deposit.get_by_role("button", name="Confirm deposit").click()
    notice = page.locator("#request-notice")
    expect(notice).to_contain_text("10,000.00")
    expect(notice).to_contain_text("awaits approval.")
    href = notice.get_by_role("link").get_attribute("href")
    assert href is not None
    request_id = href.rsplit("/", 1)[-1]
    assert page.locator("#account-balance").inner_text() == before

    first = open_page()
    sign_in(first, live_server, APPROVER_EMAIL)
    first.goto(live_server + "/admin/inbox")
    expect(first.locator("#inbox-count")).to_have_text(re.compile(r"^\d+$"))
    first.evaluate("window.__noReload = 'still here'")
    row = first.locator(f"#request-row-{request_id}")
    expect(row.locator("input[name=request_ids]")).to_have_count(0)  # no bulk for this one
    row.get_by_role("button", name="Approve").click()
    expect(row).to_contain_text("Level 1 of 2 approved")
    expect(row).to_have_attribute("data-status", "pending")
    assert first.evaluate("window.__noReload") == "still here"

    second = open_page()
    sign_in(second, live_server, SECOND_APPROVER_EMAIL)
    second.goto(live_server + "/admin/inbox")
    second.evaluate("window.__noReload = 'still here'")
    row = second.locator(f"#request-row-{request_id}")
    row.get_by_role("button", name="Mail me a code").click()
    expect(row).to_contain_text("We mailed you a one-time code")

    outbox = open_page()
    outbox.goto(live_server + "/dev/outbox")
    mail = outbox.locator("article.mail", has_text=f"change request #{request_id}").first
    found = re.search(r"\b(\d{6})\b", mail.locator("pre").inner_text())
    assert found is not None
    row.locator(f"#code-{request_id}").fill(found.group(1))
    row.get_by_role("button", name="Approve").click()
    expect(row).to_have_attribute("data-status", "approved")
    expect(row).to_contain_text("Approved and done")
    assert second.evaluate("window.__noReload") == "still here"

    page.reload()
    after = page.locator("#account-balance").inner_text()
    assert _amount(after) - _amount(before) == 1_000_000
    page.goto(live_server + href)
    expect(page.locator("#decisions")).to_contain_text("Morgan Approver")
    expect(page.locator("#decisions")).to_contain_text("yes")  # the one-time code
