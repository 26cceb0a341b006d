"""Browser helpers: sign in with the form, finishing at the second step with the code from
the dev outbox (staff always get one by mail unless they set up an authenticator app)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from vaulta.ops.seeding.demo import DEMO_PASSWORD

SECOND_STEP = re.compile(r"/login/second-factor$")


def pass_mailed_code(page: Page, base: str, email: str) -> None:
    """After the password form: when the second step opened, enter the mailed code."""
    expect(page).not_to_have_url(re.compile(r"/login(\?.*)?$"))
    if not SECOND_STEP.search(page.url):
        return
    page.goto(base + "/dev/outbox")
    mail = page.locator("article.mail", has_text=email).filter(has_text="sign-in code").first
    code = re.search(r"\b(\d{6})\b", mail.locator("pre").inner_text()).group(1)  # type: ignore[union-attr]
    page.goto(base + "/login/second-factor")
    page.fill("input[name=code]", code)
    page.click("#second-factor-form button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))


def sign_in(page: Page, base: str, email: str) -> None:
    """Sign a demo login in through the form; it ends on a signed-in page."""
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    pass_mailed_code(page, base, email)  # staff: the second factor
    expect(page).not_to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
