"""Browser helper: finish a sign-in at the second step with the code from the dev outbox
(admins always get one by mail unless they set up an authenticator app)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

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
