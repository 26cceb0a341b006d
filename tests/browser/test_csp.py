"""The Content-Security-Policy in a real browser: pages load without a single violation and
htmx still works (an API key is created and revoked through htmx swaps)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.console import BrowserConsole
from tests.browser.sign_in import sign_in
from vaulta.ops.seeding.demo import ADMIN_EMAIL, CUSTOMER_EMAIL

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`);
});
"""


@pytest.fixture
def csp_page(page: Page) -> Iterator[Page]:
    """A page that fails the test on any CSP violation (console or event)."""
    console: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            console.append(message.text)

    page.on("console", on_console)
    page.add_init_script(RECORD_VIOLATIONS)
    yield page
    assert console == [], f"CSP violations in the console: {console}"


def assert_no_violations(page: Page) -> None:
    assert page.evaluate("window.__cspViolations") == []
    csp = page.evaluate("document.querySelector('meta[name=htmx-config]') !== null")
    assert csp  # htmx reads its config from the meta tag, not from an inline script


def test_pages_load_without_csp_violations(
    live_server: str, csp_page: Page, console: BrowserConsole
) -> None:
    page = csp_page
    response = page.goto(live_server + "/login")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert_no_violations(page)
    sign_in(page, live_server, ADMIN_EMAIL)
    pages = [
        "/admin/",
        "/admin/roles",
        "/admin/staff",
        "/admin/policies",
        "/admin/policies/default",
    ]
    for path in [*pages, "/settings", "/settings/password"]:
        page.goto(live_server + path)
        assert page.evaluate("window.htmx && window.htmx.version").startswith("2.")
        assert_no_violations(page)
    console.expect("status of 404")
    page.goto(live_server + "/no-such-page")  # an error page
    assert page.evaluate("window.__cspViolations") == []


def test_htmx_swaps_work_under_the_csp(live_server: str, csp_page: Page) -> None:
    page = csp_page
    sign_in(page, live_server, CUSTOMER_EMAIL)
    page.goto(live_server + "/settings")
    assert_no_violations(page)

    page.fill("input[name=name]", "Browser test key")
    with page.expect_response(
        lambda r: r.url.endswith("/settings/api-keys") and r.request.headers.get("hx-request")
    ) as created:
        page.get_by_role("button", name="Create key").click()
    assert created.value.status == 201
    expect(page.locator("#new-api-key")).to_contain_text("vk_")
    expect(page).to_have_url(live_server + "/settings")  # swapped in place, no navigation
    row = page.locator("#api-keys tr", has_text="Browser test key")
    expect(row).to_contain_text("active")

    page.once("dialog", lambda dialog: dialog.accept())  # hx-confirm
    with page.expect_response(lambda r: "/revoke" in r.url) as revoked:
        row.get_by_role("button", name="Revoke").click()
    assert revoked.value.status == 200
    expect(page.locator("#api-keys")).to_contain_text("is revoked")
    expect(page.locator("#new-api-key")).to_have_count(0)  # shown once, never again
    assert_no_violations(page)
