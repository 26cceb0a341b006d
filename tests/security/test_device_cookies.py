"""Sign-in throttling with device cookies (OWASP): a browser that has signed in as an account
keeps its own budget of failures for it, so hammering the account from unknown devices does
not lock the owner out. Counts are Flask-Limiter's (in memory here; Redis in production)."""

from __future__ import annotations

import time
import uuid

from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from werkzeug.test import TestResponse

from tests import factories
from tests.security.conftest import redis_url_or_skip
from tests.sign_in import SECOND_FACTOR_URL, finish_second_factor, post_login
from tests.webclient import WebClient, web_client
from vaulta import create_app
from vaulta.extensions import db
from vaulta.models import User
from vaulta.security import device_cookies

WRONG = "not the password at all"


def _device_cookie_header(response: TestResponse) -> str:
    cookies = response.headers.getlist("Set-Cookie")
    found = [c for c in cookies if c.startswith(device_cookies.COOKIE_NAME + "=")]
    assert len(found) == 1, cookies
    return found[0]


def _owners_browser(app: Flask, user: User) -> WebClient:
    """A browser in which ``user`` signed in (and out again): it holds their device cookie."""
    browser = web_client(app)
    assert post_login(browser, user.email, factories.PASSWORD, "192.0.2.10").status_code == 302
    assert browser.post_form("/logout").status_code == 302
    return browser


def _hammer(app: Flask, email: str, times: int) -> list[int]:
    """Wrong passwords from unknown devices, each from its own address."""
    statuses = []
    for n in range(times):
        response = post_login(web_client(app), email, WRONG, f"203.0.113.{n + 1}")
        statuses.append(response.status_code)
    return statuses


def test_the_owner_signs_in_while_unknown_devices_hammer_the_account(app: Flask) -> None:
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3/minute"
    owner = factories.make_customer_login("owner@example.test")
    browser = _owners_browser(app, owner)
    assert _hammer(app, owner.email, 5) == [422, 422, 422, 429, 429]
    # Unknown devices are locked out, the right password too ...
    late = post_login(web_client(app), owner.email, factories.PASSWORD, "203.0.113.99")
    assert late.status_code == 429
    # ... but the owner's browser has its own budget.
    signed_in = post_login(browser, owner.email, factories.PASSWORD, "192.0.2.10")
    assert signed_in.status_code == 302
    assert browser.get(signed_in.location).status_code == 200


def test_failures_on_a_known_device_spend_its_own_budget(app: Flask) -> None:
    """The owner mistyping does not spend the budget unknown devices share, and vice versa;
    a device that spent its own budget counts as an unknown device from then on."""
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3/minute"
    app.config["RATELIMIT_LOGIN_DEVICE"] = "2/minute"
    owner = factories.make_customer_login("typo@example.test")
    browser = _owners_browser(app, owner)
    assert [post_login(browser, owner.email, WRONG).status_code for _ in range(2)] == [422, 422]
    # The account's shared budget is untouched: three unknown devices may still fail.
    assert _hammer(app, owner.email, 4) == [422, 422, 422, 429]
    # The device's own budget is spent, so it counts as unknown: that budget is spent too.
    assert post_login(browser, owner.email, factories.PASSWORD).status_code == 429


def test_a_device_that_spent_its_budget_shares_the_account_budget(app: Flask) -> None:
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3/minute"
    app.config["RATELIMIT_LOGIN_DEVICE"] = "2/minute"
    owner = factories.make_customer_login("shared@example.test")
    browser = _owners_browser(app, owner)
    statuses = [post_login(browser, owner.email, WRONG).status_code for _ in range(6)]
    assert statuses == [422, 422, 422, 422, 422, 429]  # 2 on the device, then 3 on the account
    assert post_login(web_client(app), owner.email, factories.PASSWORD).status_code == 429


def test_a_device_cookie_counts_only_for_its_own_account(app: Flask) -> None:
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "2/minute"
    mine = factories.make_customer_login("mine@example.test")
    theirs = factories.make_customer_login("theirs@example.test")
    browser = _owners_browser(app, mine)
    assert _hammer(app, theirs.email, 2) == [422, 422]
    # My cookie is no device of theirs: this browser is an unknown device for their account.
    assert post_login(browser, theirs.email, factories.PASSWORD).status_code == 429
    assert post_login(browser, mine.email, factories.PASSWORD).status_code == 302


def test_forged_or_expired_device_cookies_count_as_unknown(app: Flask) -> None:
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "1/minute"
    owner = factories.make_customer_login("forged@example.test")
    assert _hammer(app, owner.email, 1) == [422]
    payload = {"login": owner.email, "nonce": "chosen-by-the-attacker"}

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - (app.config["DEVICE_COOKIE_DAYS"] + 1) * 24 * 3600

    forged = URLSafeTimedSerializer("not the secret key", salt=device_cookies.SALT).dumps(payload)
    expired = URLSafeTimedSerializer(
        app.secret_key, salt=device_cookies.SALT, signer=LongAgo
    ).dumps(payload)
    current = URLSafeTimedSerializer(app.secret_key, salt=device_cookies.SALT).dumps(payload)
    for value, status in ((forged, 429), (expired, 429), ("garbage", 429), (current, 302)):
        browser = web_client(app)
        browser.set_cookie(device_cookies.COOKIE_NAME, value, path="/login")
        assert post_login(browser, owner.email, factories.PASSWORD).status_code == status


def test_the_device_cookie_is_issued_at_sign_in_only(app: Flask) -> None:
    owner = factories.make_customer_login("cookie@example.test")
    browser = web_client(app)
    failed = post_login(browser, owner.email, WRONG)
    assert failed.status_code == 422
    assert not any(
        c.startswith(device_cookies.COOKIE_NAME) for c in failed.headers.getlist("Set-Cookie")
    )
    first = _device_cookie_header(post_login(browser, owner.email, factories.PASSWORD))
    assert "HttpOnly" in first
    assert "SameSite=Lax" in first
    assert "Path=/login" in first
    assert f"Max-Age={app.config['DEVICE_COOKIE_DAYS'] * 24 * 3600}" in first
    assert "Secure" not in first  # testing runs over http; production: next test
    value = first.split(";")[0].split("=", 1)[1]
    payload = URLSafeTimedSerializer(app.secret_key, salt=device_cookies.SALT).loads(value)
    assert payload["login"] == owner.email
    assert len(payload["nonce"]) >= 20
    # Each sign-in issues a new one.
    browser.post_form("/logout")
    again = _device_cookie_header(post_login(browser, owner.email, factories.PASSWORD))
    assert again.split(";")[0] != first.split(";")[0]


def test_the_device_cookie_is_secure_where_the_session_cookie_is(app: Flask) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    owner = factories.make_customer_login("secure@example.test")
    response = post_login(web_client(app), owner.email, factories.PASSWORD)
    assert "Secure" in _device_cookie_header(response)


def test_the_second_factor_comes_first_and_still_applies(app: Flask, admin: User) -> None:
    """A password alone makes no known device; a known device still needs the second factor."""
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "2/minute"
    browser = web_client(app)
    halfway = post_login(browser, admin.email, factories.PASSWORD)
    assert halfway.location == SECOND_FACTOR_URL
    assert not any(
        c.startswith(device_cookies.COOKIE_NAME) for c in halfway.headers.getlist("Set-Cookie")
    )
    done = finish_second_factor(browser, halfway, admin.email)
    assert done.status_code == 302
    _device_cookie_header(done)
    browser.post_form("/logout")
    assert _hammer(app, admin.email, 3) == [422, 422, 429]
    # The known device gets past the throttled password step, to the second factor again.
    again = post_login(browser, admin.email, factories.PASSWORD)
    assert again.status_code == 302
    assert again.location == SECOND_FACTOR_URL
    assert browser.get("/admin/").status_code == 302  # not signed in before the code


def test_device_cookies_and_budgets_hold_across_instances_on_redis(database_url: str) -> None:
    """Two app instances (two gunicorn workers or hosts) on one Redis: the account's budget
    is spent for both, and the cookie one instance issued is a known device on the other."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": redis_url_or_skip(),
        "RATELIMIT_LOGIN_ACCOUNT": "2/minute",
    }
    email = f"device-{uuid.uuid4().hex}@example.test"  # counts no other run shares
    apps: list[Flask] = []

    def new_app() -> Flask:
        instance = create_app("testing", settings)
        instance.test_client_class = WebClient
        apps.append(instance)
        return instance

    try:
        first = new_app()
        with first.app_context():
            owner = factories.make_customer_login(email)
            cookie = _owners_browser(first, owner).get_cookie(
                device_cookies.COOKIE_NAME, path="/login"
            )
            assert cookie is not None
            assert _hammer(first, email, 3) == [422, 422, 429]
        second = new_app()
        with second.app_context():
            unknown = post_login(web_client(second), email, factories.PASSWORD, "203.0.113.50")
            assert unknown.status_code == 429
            known = web_client(second)
            known.set_cookie(device_cookies.COOKIE_NAME, cookie.value, path="/login")
            assert post_login(known, email, factories.PASSWORD).status_code == 302
    finally:
        for instance in apps:
            with instance.app_context():
                db.session.remove()
                db.engine.dispose()
