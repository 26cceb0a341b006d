"""Demo staff sign in through a real browser and see the back-office landing page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.console import BrowserConsole
from tests.browser.sign_in import pass_mailed_code
from vaulta.ops.seeding.demo import ADMIN_EMAIL, DEMO_PASSWORD, TELLER_EMAIL


def test_a_teller_signs_in_and_sees_the_dashboard(live_server: str, page: Page) -> None:
    page.goto(live_server + "/admin/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("input[name=email]", TELLER_EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    pass_mailed_code(page, live_server, TELLER_EMAIL)  # the second factor
    expect(page).to_have_url(live_server + "/admin/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Welcome, Taylor Teller.")).to_be_visible()
    expect(page.get_by_role("heading", name="Latest transactions")).to_be_visible()
    expect(page.locator("table tbody tr").first).to_contain_text("EUR")
    assert page.evaluate("window.htmx && window.htmx.version").startswith("2.")


def test_wrong_password_shows_one_generic_message(
    live_server: str, page: Page, console: BrowserConsole
) -> None:
    console.expect("status of 422")  # the login page again, with the error
    page.goto(live_server + "/login")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
