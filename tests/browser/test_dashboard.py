"""The dashboards in a real browser: staff and customer charts render as SVG with their
tables under the page's CSP (any console error, a CSP violation included, fails the test).
Screenshots go to test-results/ (git-ignored) for a person to look at."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.sign_in import sign_in
from vaulta.ops.seeding.demo import AUDITOR_EMAIL, CUSTOMER_EMAIL

RESULTS = Path(__file__).resolve().parents[2] / "test-results"
STAFF_CHARTS = ("payments-status", "payments-currency", "backlog", "decisions", "balances")


def screenshot(page: Page, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(RESULTS / name), full_page=True)


def assert_chart(page: Page, chart_id: str, *, empty: str | None = None) -> None:
    """The figure has its SVG (with a title and drawn marks) and its table of figures;
    ``empty`` is what the table says when there is legitimately nothing to draw."""
    figure = page.locator(f"#{chart_id}")
    svg = figure.locator("svg.chart")
    expect(svg).to_be_visible()
    expect(svg.locator("title").first).not_to_be_empty()
    drawn = svg.locator("rect, polyline").count()
    if empty is None or drawn:
        assert drawn > 0, f"{chart_id}: nothing drawn"
    else:
        expect(figure.locator("table")).to_contain_text(empty)
    box = svg.bounding_box()
    assert box is not None, chart_id
    assert box["width"] > 200, chart_id
    assert box["height"] > 20, chart_id
    figure.locator("summary").click()  # the accessible alternative opens
    table = figure.locator("table")
    expect(table).to_be_visible()
    assert table.locator("tbody tr").count() > 0, f"{chart_id}: empty table"


def test_staff_dashboard_charts(live_server: str, page: Page) -> None:
    sign_in(page, live_server, AUDITOR_EMAIL)  # the auditor reads the bank's figures
    page.goto(live_server + "/admin/?days=90")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    screenshot(page, "dashboard-staff.png")
    for chart_id in STAFF_CHARTS:
        assert_chart(page, chart_id)
    # The demo history may have nothing yet today (it depends on the hour).
    assert_chart(page, "movements", empty="No movements today yet.")
    # 90 days of demo history: payments on many days, decided every month.
    assert page.locator("#payments-status svg rect").count() >= 5
    assert page.locator("#decisions-table tbody tr").count() == 12
    expect(page.locator("#balances-table")).to_contain_text("EUR")
    screenshot(page, "dashboard-staff-tables.png")
    page.get_by_role("link", name="30 days").click()
    expect(page.locator("a[aria-current=true]")).to_have_text("30 days")
    assert_chart(page, "payments-status")


def test_customer_dashboard_charts(live_server: str, page: Page) -> None:
    sign_in(page, live_server, CUSTOMER_EMAIL)
    expect(page.get_by_role("heading", name="My accounts")).to_be_visible()
    screenshot(page, "dashboard-customer.png")
    sections = page.locator("section.account-charts")
    assert sections.count() >= 2  # the demo customer's EUR and USD accounts
    for i in range(sections.count()):
        for figure in sections.nth(i).locator("figure").all():
            chart_id = figure.get_attribute("id")
            assert chart_id is not None
            assert_chart(page, chart_id)
    first = sections.first
    assert first.locator("table").first.locator("tbody tr").count() == 90
    screenshot(page, "dashboard-customer-tables.png")


def test_account_page_lists_monthly_pdf_statements(live_server: str, page: Page) -> None:
    """The account page loads its PDF statements with htmx; a month downloads as a PDF."""
    sign_in(page, live_server, CUSTOMER_EMAIL)
    page.locator("table").first.get_by_role("link").first.click()
    months = page.locator("#monthly-statements")
    expect(months).to_be_visible()  # swapped in after the page loaded
    with page.expect_download() as download:
        months.get_by_role("link", name="PDF").first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    path = download.value.path()
    assert path.read_bytes().startswith(b"%PDF-")
