"""A large export in a real browser: the search page's link leads to the job's page (the
live server runs tasks at once, so the file is ready), whose download link gives the CSV,
all under the page's CSP (any console error fails the test)."""

from __future__ import annotations

import csv
import re

from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from vaulta.ops.seeding.demo import AUDITOR_EMAIL


def test_a_large_export_is_prepared_then_downloaded(live_server: str, page: Page) -> None:
    sign_in(page, live_server, AUDITOR_EMAIL)
    page.goto(live_server + "/admin/transactions/")
    page.get_by_role("link", name="Download CSV").click()
    expect(page).to_have_url(re.compile(r"/admin/exports/\d+$"))
    expect(page.locator(".flash")).to_contain_text("your export is being prepared")
    status = page.locator("#export-status")
    expect(status).to_contain_text("rows")
    with page.expect_download() as download:
        status.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("transactions-")
    with open(download.value.path(), encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["id", "created_at", "kind"]
    assert len(rows) > 101  # more than the live server's inline limit
