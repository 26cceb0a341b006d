"""A customer sets up an authenticator app in Chromium (QR code shown, key read from the
manual-entry text, code computed with pyotp), signs out, and signs in with the password and
a fresh authenticator code."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Page, expect

from vaulta.ops.seeding.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser
EMAIL = "barbara@vaulta.test"  # a demo login no other browser test uses


def test_customer_enrols_an_authenticator_and_signs_in_with_it(
    live_server: str, page: Page
) -> None:
    page.goto(live_server + "/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_server + "/")  # no second factor yet

    page.goto(live_server + "/settings")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page).to_have_url(live_server + "/settings/two-factor/totp")
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")  # type: ignore[union-attr]
    assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.fill("input[name=code]", totp.now())
    page.get_by_role("button", name="Turn on the authenticator app").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(live_server + "/login/second-factor")
    expect(page.get_by_text("authenticator app shows")).to_be_visible()
    page.goto(live_server + "/")  # nothing opens before the second factor
    expect(page).to_have_url(live_server + "/login/second-factor")
    # The code of the next time step: later than the one used at enrolment, inside the window.
    page.fill("input[name=code]", totp.at(time.time() + totp.interval))
    page.click("#second-factor-form button[type=submit]")
    expect(page).to_have_url(live_server + "/")
    expect(page.get_by_role("heading", name="My accounts")).to_be_visible()
    expect(page.get_by_text("Welcome, Barbara Liskov.")).to_be_visible()
