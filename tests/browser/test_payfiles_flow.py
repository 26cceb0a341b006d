"""Payment files in Chromium: a teller uploads a CSV for a customer's account, sees every
line checked, submits, and the approver finds the batch's change request in the inbox and
approves it; a customer uploads their own file the same way and, once staff approved it,
sees each line paid. No console errors (tests/browser/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from tests.browser.test_inbox_flow import _open_account
from tests.browser.test_payments_flow import _first_eur_account
from vaulta.ops.seeding.demo import APPROVER_EMAIL, CUSTOMER_EMAIL, TELLER_EMAIL

pytestmark = pytest.mark.browser
HEADER = "beneficiary_name,beneficiary_iban,amount,currency,remittance"
GOOD_IBAN = "DE89370400440532013000"


def _csv(currency: str, tag: str) -> bytes:
    lines = [
        HEADER,
        f"Alpha {tag},{GOOD_IBAN},1.25,{currency},Invoice {tag}-1",
        f"Beta {tag},DE00000000000000000000,2.50,{currency},Invoice {tag}-2",  # bad IBAN
        f"Gamma {tag},{GOOD_IBAN},3.75,{currency},Invoice {tag}-3",
    ]
    return ("\n".join(lines) + "\n").encode()


def _check_and_submit(page: Page, data: bytes, name: str) -> None:
    """On an upload page: choose the file, check it (htmx), see the lines, submit."""
    page.locator("input[name=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Check the file").click()
    summary = page.locator("#preview-summary")
    expect(summary).to_contain_text("3 lines")
    expect(summary).to_contain_text("2 valid")
    expect(summary).to_contain_text("1 invalid")
    expect(page.locator("#invalid-lines tr[data-line='2']")).to_contain_text("IBAN")
    page.get_by_role("button", name="Submit 2 payments for approval").click()


def _approve_in_inbox(approver: Page, base: str, request_id: str) -> None:
    sign_in(approver, base, APPROVER_EMAIL)
    approver.goto(base + "/admin/inbox")
    row = approver.locator(f"#request-row-{request_id}")
    expect(row).to_contain_text("Payment file")
    row.get_by_role("button", name="Approve").click()
    expect(row).to_have_attribute("data-status", "approved")


def test_teller_uploads_a_file_and_the_approver_decides_its_request(
    live_server: str, page: Page, open_page: Callable[[], Page]
) -> None:
    sign_in(page, live_server, TELLER_EMAIL)
    # Not Barbara Liskov: test_inbox_flow deposits 10,000.00 for her, which brings her
    # 24-hour total to the seeded two-approver threshold (the file would need two levels).
    _open_account(page, live_server, "Radia Perlman")
    page.locator("#payment-file-link").click()
    heading = page.get_by_role("heading", name=re.compile(r"^Payment file for account"))
    currency = heading.locator("small").inner_text().strip()
    _check_and_submit(page, _csv(currency, "T"), "teller.csv")
    notice = page.locator("#request-notice")
    expect(notice).to_contain_text("awaits approval.")
    href = notice.get_by_role("link").get_attribute("href")
    assert href is not None
    request_id = href.rsplit("/", 1)[-1]

    approver = open_page()
    _approve_in_inbox(approver, live_server, request_id)
    approver.goto(f"{live_server}/admin/payment-batches/{request_id}")
    expect(approver.locator("#batch-result")).to_have_text("2 paid, 0 failed")
    expect(approver.locator("#batch-lines tr[data-status='executed']")).to_have_count(2)


def test_customer_uploads_their_own_file_and_sees_each_line_paid(
    live_server: str, page: Page, open_page: Callable[[], Page]
) -> None:
    sign_in(page, live_server, CUSTOMER_EMAIL)
    number, _ = _first_eur_account(page, live_server)
    page.goto(live_server + "/payments/")
    page.get_by_role("button", name="Payment files").click()
    expect(page.get_by_role("heading", name="Payment files")).to_be_visible()
    page.get_by_role("button", name=re.compile(f"Upload for {number}")).click()
    _check_and_submit(page, _csv("EUR", "C"), "mine.csv")
    notice = page.locator("#request-notice")
    expect(notice).to_contain_text("awaits approval by the bank")
    href = notice.get_by_role("link").get_attribute("href")
    assert href is not None
    batch_id = href.rsplit("/", 1)[-1]
    page.goto(live_server + "/payments/files")
    row = page.locator(f"#payment-file-{batch_id}")
    expect(row).to_have_attribute("data-status", "pending")
    expect(row).to_contain_text("mine.csv")

    approver = open_page()
    _approve_in_inbox(approver, live_server, batch_id)

    page.goto(live_server + "/payments/files")
    expect(row).to_contain_text("2 paid, 0 failed")
    row.get_by_role("link", name=batch_id).click()
    expect(page.locator("#batch-lines tr[data-status='executed']")).to_have_count(2)
    expect(page.locator("#batch-invalid")).to_contain_text("Line 2")
