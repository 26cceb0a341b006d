"""Holds in a real browser (issue 16): a teller asks for a hold from the account page and is
told, without a page reload, that it awaits approval; once an approver approves it the page
shows the amount held and the hold; releasing it goes the same way."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from tests.browser.test_banking_flow import _amount
from tests.browser.test_inbox_flow import _open_account
from vaulta.ops.seeding.demo import APPROVER_EMAIL, TELLER_EMAIL


def _request_id(page: Page) -> str:
    notice = page.locator("#holds-panel #request-notice")
    expect(notice).to_contain_text("awaits approval.")
    href = notice.get_by_role("link").get_attribute("href")
    assert href is not None
    return href.rsplit("/", 1)[-1]


def _approve(approver: Page, base: str, request_id: str) -> None:
    approver.goto(base + "/admin/inbox")
    row = approver.locator(f"#request-row-{request_id}")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_have_attribute("data-status", "approved")


def test_teller_places_and_releases_a_hold(
    live_server: str, page: Page, open_page: Callable[[], Page]
) -> None:
    reason = f"Browser hold {uuid.uuid4().hex[:8]}"
    sign_in(page, live_server, TELLER_EMAIL)
    _open_account(page, live_server, "Ada Lovelace")
    held_before = _amount(page.locator("#account-held").inner_text())
    page.evaluate("window.__noReload = true")
    form = page.locator("#hold-form")
    form.get_by_label("Amount").fill("3.00")
    form.get_by_label("Expires at (UTC)").fill("2099-01-01T10:00")
    form.get_by_label("Reason").fill(reason)
    form.get_by_role("button", name="Request hold").click()
    placed = _request_id(page)
    assert page.evaluate("window.__noReload") is True  # swapped by htmx, not reloaded

    approver = open_page()
    sign_in(approver, live_server, APPROVER_EMAIL)
    _approve(approver, live_server, placed)

    page.reload()
    assert _amount(page.locator("#account-held").inner_text()) - held_before == 300
    row = page.locator("#holds-table tr", has_text=reason)
    expect(row).to_contain_text("active")
    page.evaluate("window.__noReload = true")
    row.get_by_role("button", name="Release").click()
    released = _request_id(page)
    assert page.evaluate("window.__noReload") is True
    _approve(approver, live_server, released)

    page.reload()
    expect(page.locator("#holds-table tr", has_text=reason)).to_contain_text(re.compile("released"))
    assert _amount(page.locator("#account-held").inner_text()) == held_before
