"""The second factor by mailed code: ordering (password, then code, then pages), wrong /
expired / replayed / foreign codes, throttling, no fixation, pending sessions, timeouts."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import mailed_code, sign_in_code
from tests.security.conftest import Clock
from tests.sign_in import SECOND_FACTOR_URL, post_login
from tests.webclient import WebClient
from vaulta.auth.second_factor import PASSED, PENDING
from vaulta.extensions import db
from vaulta.models import OTP, AuditEvent, User, utcnow
from vaulta.security import session_timeouts
from vaulta.services.identity import two_factor


def enter_code(client: WebClient, code: str):
    return client.post_form(SECOND_FACTOR_URL, {"code": code})


def test_admin_pages_wait_for_the_mailed_code(client: WebClient, admin: User) -> None:
    response = post_login(client, admin.email, next_url="/admin/customers/")
    assert response.status_code == 302
    assert response.location == SECOND_FACTOR_URL
    for path in ["/admin/", "/admin/customers/", "/settings", "/", "/payments/"]:
        blocked = client.get(path)
        assert blocked.status_code == 302, path
        assert blocked.location == SECOND_FACTOR_URL, path
    htmx = client.htmx("GET", "/admin/customers/")
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == SECOND_FACTOR_URL
    page = client.get(SECOND_FACTOR_URL)
    assert page.status_code == 200
    assert "We mailed you a 6-digit code" in page.text
    assert client.get("/healthz").status_code == 200  # open pages stay open
    response = enter_code(client, sign_in_code(admin.email))
    assert response.status_code == 302
    assert response.location == "/admin/customers/"  # the page first asked for
    home = client.get("/admin/")
    assert home.status_code == 200
    assert "Welcome, Test Admin." in home.text


def test_a_customer_without_a_second_factor_signs_in_directly(
    client: WebClient, customer_user: User
) -> None:
    response = post_login(client, customer_user.email)
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/").status_code == 200


def test_a_customer_who_turned_on_mailed_codes_must_enter_one(
    client: WebClient, customer_user: User
) -> None:
    client.sign_in(customer_user)
    assert client.post_form("/settings/two-factor/email").location == "/settings/two-factor/email"
    wrong = client.post_form("/settings/two-factor/email/confirm", {"code": "000000"})
    assert wrong.status_code == 422
    code = mailed_code(customer_user.email, "Turn on sign-in codes")
    confirmed = client.post_form("/settings/two-factor/email/confirm", {"code": code})
    assert confirmed.location == "/settings"
    assert "Sign-in asks for a code we <strong>mail</strong> you" in client.get("/settings").text
    client.post_form("/logout")
    assert post_login(client, customer_user.email).location == SECOND_FACTOR_URL
    assert client.get("/").location == SECOND_FACTOR_URL
    assert enter_code(client, sign_in_code(customer_user.email)).location == "/"
    # Turning it off needs the password.
    off = client.post_form("/settings/two-factor/email/disable", {"password": "wrong password"})
    assert off.status_code == 422
    assert "Your password is not correct." in off.text
    off = client.post_form("/settings/two-factor/email/disable", {"password": factories.PASSWORD})
    assert off.location == "/settings"
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.actor_id == customer_user.id)
    ).all()
    assert {"user.two_factor_enabled", "user.two_factor_disabled"} <= set(actions)


def test_wrong_codes_are_refused_and_lock_after_five(client: WebClient, admin: User) -> None:
    post_login(client, admin.email)
    code = sign_in_code(admin.email)
    wrong = "000000" if code != "000000" else "111111"
    first = enter_code(client, wrong)
    assert first.status_code == 422
    assert "4 tries left" in first.text
    assert client.get("/admin/").location == SECOND_FACTOR_URL
    for _ in range(4):
        enter_code(client, wrong)
    locked = enter_code(client, code)  # even the right code: the code is used up
    assert locked.status_code == 422
    assert "Too many wrong codes" in locked.text
    assert client.post_form("/login/second-factor/resend").location == SECOND_FACTOR_URL
    assert enter_code(client, sign_in_code(admin.email)).location == "/admin/"


def test_an_expired_code_is_refused(client: WebClient, admin: User) -> None:
    post_login(client, admin.email)
    code = sign_in_code(admin.email)
    db.session.execute(sa.update(OTP).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    response = enter_code(client, code)
    assert response.status_code == 422
    assert "expired" in response.text


def test_a_used_code_cannot_be_replayed(client: WebClient, admin: User) -> None:
    post_login(client, admin.email)
    code = sign_in_code(admin.email)
    assert enter_code(client, code).location == "/admin/"
    client.post_form("/logout")
    post_login(client, admin.email)
    if sign_in_code(admin.email) != code:
        response = enter_code(client, code)
        assert response.status_code == 422
        assert client.get("/admin/").location == SECOND_FACTOR_URL


def test_a_code_belongs_to_its_own_sign_in_attempt(app: Flask, admin: User) -> None:
    mine, theirs = app.test_client(), app.test_client()
    post_login(mine, admin.email)  # type: ignore[arg-type]
    my_code = sign_in_code(admin.email)
    post_login(theirs, admin.email)  # type: ignore[arg-type]
    their_code = sign_in_code(admin.email)
    if their_code != my_code:
        assert enter_code(mine, their_code).status_code == 422  # type: ignore[arg-type]
    assert enter_code(theirs, their_code).location == "/admin/"  # type: ignore[arg-type]
    assert enter_code(mine, my_code).location == "/admin/"  # type: ignore[arg-type]


def test_a_new_code_replaces_the_old_one(client: WebClient, admin: User) -> None:
    post_login(client, admin.email)
    old = sign_in_code(admin.email)
    assert client.post_form("/login/second-factor/resend").status_code == 302
    new = sign_in_code(admin.email)
    if new != old:
        assert enter_code(client, old).status_code == 422
    assert enter_code(client, new).location == "/admin/"


def test_the_code_step_is_throttled(app: Flask, client: WebClient, admin: User) -> None:
    app.config["RATELIMIT_PASSCODE"] = "3/minute"
    post_login(client, admin.email)
    for _ in range(3):
        assert enter_code(client, "999999x").status_code == 422
    response = enter_code(client, sign_in_code(admin.email))
    assert response.status_code == 429
    assert "Too many requests" in response.text
    assert client.post_form("/login/second-factor/resend").status_code in (302, 429)


def test_the_second_step_makes_a_fresh_session(client: WebClient, admin: User) -> None:
    post_login(client, admin.email)
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        assert PENDING in sess
        assert "_user_id" not in sess
    enter_code(client, sign_in_code(admin.email))
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert PENDING not in sess
        assert sess[PASSED] is True
        assert sess["_user_id"] == admin.session_token


def test_without_a_pending_sign_in_the_step_says_nothing(client: WebClient) -> None:
    page = client.get(SECOND_FACTOR_URL)
    assert page.status_code == 302
    assert page.location == "/login"
    assert enter_code(client, "123456").location == "/login"
    assert client.post_form("/login/second-factor/resend").location == "/login"
    assert client.post(SECOND_FACTOR_URL, data={"code": "123456"}).status_code == 400  # CSRF


def test_sign_out_while_pending_ends_the_attempt(client: WebClient, admin: User) -> None:
    post_login(client, admin.email)
    code = sign_in_code(admin.email)
    response = client.post_form("/logout")
    assert response.location == "/login"
    assert client.get("/admin/").location.startswith("/login")
    assert enter_code(client, code).location == "/login"


def test_a_pending_sign_in_expires(client: WebClient, admin: User, clock: Clock) -> None:
    post_login(client, admin.email)
    clock.advance(minutes=11)
    response = enter_code(client, sign_in_code(admin.email))
    assert response.location == "/login"
    assert "took too long" in client.get("/login").text


def test_timeouts_count_from_the_full_sign_in(client: WebClient, admin: User, clock: Clock) -> None:
    post_login(client, admin.email)
    clock.advance(minutes=4)
    enter_code(client, sign_in_code(admin.email))
    with client.session_transaction() as sess:
        assert sess[session_timeouts.LOGIN_AT] == int(clock.now)
    clock.advance(minutes=29)
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/admin/").location.startswith("/login")


def test_a_signed_in_session_that_skipped_the_second_factor_ends(
    client: WebClient, admin: User
) -> None:
    with client.session_transaction() as sess:  # e.g. a session from before 2FA existed
        sess["_user_id"] = admin.session_token
    response = client.get("/admin/")
    assert response.location == "/login"
    assert "second factor" in client.get("/login").text
    assert client.get("/admin/").location.startswith("/login")


def test_codes_never_reach_the_logs(
    client: WebClient, admin: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    post_login(client, admin.email)
    code = sign_in_code(admin.email)
    enter_code(client, code)
    assert code not in caplog.text
    stored = db.session.scalars(sa.select(OTP.code_hash).where(OTP.user_id == admin.id)).all()
    assert stored
    assert all(code not in h for h in stored)
    assert two_factor.LOGIN_PURPOSE in db.session.scalars(sa.select(OTP.purpose)).all()
