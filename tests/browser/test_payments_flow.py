"""A payment end to end in Chromium: request, code from the dev outbox, confirm, approve in
the queue without a page reload, executed, both balances moved."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from vaulta.ops.seeding.demo import APPROVER_EMAIL, CUSTOMER_EMAIL
from vaulta.ops.seeding.demo_payments import BENEFICIARY_EMAIL

pytestmark = pytest.mark.browser
AMOUNT = Decimal("25.00")


def _first_eur_account(page: Page, base: str) -> tuple[str, Decimal]:
    """(number, balance) of the first EUR account on the customer's landing page."""
    page.goto(base + "/")
    row = page.locator("tr", has=page.locator("td", has_text=re.compile(r"^EUR$"))).first
    number = row.locator("td").nth(0).inner_text().strip()
    balance = row.locator("td").nth(3).inner_text().replace(",", "").replace("EUR", "")
    return number, Decimal(balance.strip())


def test_customer_pays_admin_approves_without_reload(
    live_server: str, page: Page, open_page: Callable[[], Page]
) -> None:
    ada = open_page()
    sign_in(ada, live_server, BENEFICIARY_EMAIL)
    target_number, target_before = _first_eur_account(ada, live_server)

    sign_in(page, live_server, CUSTOMER_EMAIL)
    source_number, source_before = _first_eur_account(page, live_server)
    page.goto(live_server + "/payments/new")
    page.select_option("select[name=from_account]", source_number)
    page.fill("input[name=to_account]", target_number)
    page.fill("input[name=amount]", "25.001")
    expect(page.locator("#field-amount .field-error")).to_contain_text("2 decimal places")
    page.fill("input[name=amount]", str(AMOUNT))
    expect(page.locator("#field-amount .field-error")).to_have_count(0)
    page.fill("input[name=reference]", "Browser test")
    page.click("#payment-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/payments/\d+/confirm$"))
    payment_id = re.search(r"/payments/(\d+)/confirm", page.url).group(1)  # type: ignore[union-attr]

    page.goto(live_server + "/dev/outbox")
    mail = page.locator("article.mail", has_text=f"payment #{payment_id}").first
    code = re.search(r"\b(\d{6})\b", mail.locator("pre").inner_text()).group(1)  # type: ignore[union-attr]
    page.goto(f"{live_server}/payments/{payment_id}/confirm")
    page.fill("input[name=code]", code)
    page.click("form:has(input[name=code]) button[type=submit]")
    expect(page.get_by_text("waits for approval")).to_be_visible()

    admin = open_page()
    sign_in(admin, live_server, APPROVER_EMAIL)
    admin.goto(live_server + "/admin/approvals/")
    # The badge loads its number after the page (hx-trigger="load").
    expect(admin.locator("#approvals-count")).to_have_text(re.compile(r"^\d+$"))
    count = int(admin.locator("#approvals-count").inner_text())
    admin.evaluate("window.__noReload = 'still here'")
    row = admin.locator(f"#payment-row-{payment_id}")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_have_attribute("data-status", "executed")
    expect(row).to_contain_text(f"PAY-{payment_id}")
    expect(admin.locator("#approvals-count")).to_have_text(str(count - 1))
    assert admin.evaluate("window.__noReload") == "still here"

    page.goto(live_server + "/payments/")
    expect(page.locator(f"#payment-{payment_id}")).to_contain_text("executed")
    expect(page.locator(f"#payment-{payment_id}")).to_contain_text("Approved by Parker Approver")
    assert _first_eur_account(page, live_server) == (source_number, source_before - AMOUNT)
    assert _first_eur_account(ada, live_server) == (target_number, target_before + AMOUNT)


def test_admin_rejects_from_the_queue_with_a_reason(live_server: str, page: Page) -> None:
    """ "Reject…" opens the row's reason form in place (focused); rejecting swaps the row."""
    sign_in(page, live_server, APPROVER_EMAIL)
    page.goto(live_server + "/admin/approvals/")
    page.evaluate("window.__noReload = 'still here'")
    row = page.locator("tr[data-status=pending_approval]").first
    row_id = row.get_attribute("id")
    assert row_id is not None
    row = page.locator(f"#{row_id}")
    expect(row.locator("input[name=reason]")).to_have_count(0)
    row.get_by_role("button", name="Reject…").click()
    reason = row.locator("input[name=reason]")
    expect(reason).to_be_focused()
    reason.fill("Beneficiary not verified")
    row.get_by_role("button", name="Reject", exact=True).click()
    expect(row).to_have_attribute("data-status", "rejected")
    expect(row).to_contain_text("Beneficiary not verified")
    assert page.evaluate("window.__noReload") == "still here"
