"""The authenticator app (TOTP): enrolment with a server-rendered QR code, sign-in, no replay
of a time step, recovery codes (hashed, single use, regenerated), turning it off, audit and
no secrets in the database or logs. The TOTP clock is ``two_factor.now`` (monkeypatched)."""

from __future__ import annotations

import logging
import re

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import count_rows
from tests.security.conftest import Clock
from tests.sign_in import SECOND_FACTOR_URL, post_login
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import AuditEvent, User
from vaulta.models.security import RecoveryCode
from vaulta.services.errors import InvalidInput
from vaulta.services.identity import two_factor

T0 = 1_900_000_000.0  # a step boundary: 1_900_000_000 / 30 is whole


@pytest.fixture
def totp_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock two_factor reads (the session timeouts keep the real one)."""
    clock = Clock(T0)
    monkeypatch.setattr(two_factor, "now", clock)
    return clock


def code_at(secret: str, when: float) -> str:
    return pyotp.TOTP(secret).at(int(when))


def enrol(client: WebClient, user: User, clock: Clock) -> tuple[str, list[str]]:
    """Enrol through the settings pages; return (secret, recovery codes)."""
    assert client.post_form("/settings/two-factor/totp").location == "/settings/two-factor/totp"
    page = client.get("/settings/two-factor/totp")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7 ]+)</code>', page.text)
    assert secret is not None
    plain = secret.group(1).replace(" ", "")
    clock.now -= 30  # the code of the previous step, so later sign-ins use fresh steps
    confirmed = client.post_form(
        "/settings/two-factor/totp/confirm", {"code": code_at(plain, clock.now)}
    )
    clock.now += 30
    assert confirmed.status_code == 200, confirmed.text
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", confirmed.text)
    return plain, codes


def sign_in_until_second_step(client: WebClient, email: str) -> None:
    assert post_login(client, email).location == SECOND_FACTOR_URL


def test_enrolment_shows_a_qr_code_and_needs_a_valid_code(
    customer_client: WebClient, customer_user: User, totp_clock: Clock
) -> None:
    customer_client.post_form("/settings/two-factor/totp")
    page = customer_client.get("/settings/two-factor/totp")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text  # rendered on the server
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    wrong = customer_client.post_form("/settings/two-factor/totp/confirm", {"code": "000000"})
    assert wrong.status_code == 422
    assert two_factor.WRONG_CODE in wrong.text
    db.session.refresh(customer_user)
    assert customer_user.two_factor_method is None  # not until a valid code
    secret, codes = enrol(customer_client, customer_user, totp_clock)
    assert len(codes) == len(set(codes)) == two_factor.RECOVERY_CODE_COUNT
    db.session.refresh(customer_user)
    assert customer_user.two_factor_method == "totp"
    assert customer_user.totp_secret == secret
    settings = customer_client.get("/settings")
    assert secret not in settings.text.replace(" ", "")  # never shown again
    assert '<strong id="recovery-left">10</strong>' in settings.text


def test_sign_in_with_the_authenticator_and_no_replay(
    client: WebClient, customer_user: User, totp_clock: Clock
) -> None:
    client.sign_in(customer_user)
    secret, _codes = enrol(client, customer_user, totp_clock)
    client.post_form("/logout")
    sign_in_until_second_step(client, customer_user.email)
    assert client.get("/").location == SECOND_FACTOR_URL
    code = code_at(secret, totp_clock.now)
    assert client.post_form(SECOND_FACTOR_URL, {"code": code}).location == "/"
    client.post_form("/logout")
    # The same code, within the same 30 seconds: refused.
    sign_in_until_second_step(client, customer_user.email)
    replay = client.post_form(SECOND_FACTOR_URL, {"code": code})
    assert replay.status_code == 422
    assert two_factor.REPLAYED_CODE in replay.text
    # An older step inside the window is refused too; the next step works.
    older = client.post_form(SECOND_FACTOR_URL, {"code": code_at(secret, totp_clock.now - 30)})
    assert older.status_code == 422
    next_code = code_at(secret, totp_clock.now + 30)
    assert client.post_form(SECOND_FACTOR_URL, {"code": next_code}).location == "/"


def test_the_window_is_one_step_either_side(
    app: Flask, customer_user: User, totp_clock: Clock
) -> None:
    two_factor.begin_totp_enrolment(customer_user)
    secret = db.session.get(User, customer_user.id).totp_secret  # type: ignore[union-attr]
    assert secret
    two_factor.confirm_totp_enrolment(customer_user, code_at(secret, T0 - 30))
    for offset in (-60, 60):
        with pytest.raises(InvalidInput):
            two_factor.verify_totp(customer_user, code_at(secret, T0 + offset))
    two_factor.verify_totp(customer_user, code_at(secret, T0))
    two_factor.verify_totp(customer_user, code_at(secret, T0 + 30))
    with pytest.raises(InvalidInput, match="already used"):
        two_factor.verify_totp(customer_user, code_at(secret, T0 + 30))
    assert db.session.get(User, customer_user.id).totp_last_step == int(T0 + 30) // 30  # type: ignore[union-attr]


def test_recovery_codes_are_hashed_and_work_once(
    client: WebClient, admin: User, totp_clock: Clock
) -> None:
    client.sign_in(admin)
    _secret, codes = enrol(client, admin, totp_clock)
    stored = db.session.scalars(
        sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == admin.id)
    ).all()
    assert len(stored) == 10
    for code in codes:
        assert all(code.replace("-", "") not in h and code not in h for h in stored)
    client.post_form("/logout")
    sign_in_until_second_step(client, admin.email)
    assert client.post_form(SECOND_FACTOR_URL, {"code": codes[0].upper()}).location == "/admin/"
    assert '<strong id="recovery-left">9</strong>' in client.get("/settings").text
    client.post_form("/logout")
    sign_in_until_second_step(client, admin.email)
    reused = client.post_form(SECOND_FACTOR_URL, {"code": codes[0]})
    assert reused.status_code == 422
    assert client.get("/admin/").location == SECOND_FACTOR_URL
    used = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.recovery_code_used")
    )
    assert used is not None
    assert used.details["remaining"] == 9  # beside the request's request_id


def test_regenerating_recovery_codes_invalidates_the_old_ones(
    client: WebClient, admin: User, totp_clock: Clock
) -> None:
    client.sign_in(admin)
    _secret, old = enrol(client, admin, totp_clock)
    url = "/settings/two-factor/recovery-codes"
    wrong = client.post_form(url, {"credential": "not my password"})
    assert wrong.status_code == 422
    assert two_factor.WRONG_CREDENTIAL in wrong.text
    page = client.post_form(url, {"credential": factories.PASSWORD})
    new = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", page.text)
    assert len(new) == 10
    assert not set(new) & set(old)
    client.post_form("/logout")
    sign_in_until_second_step(client, admin.email)
    assert client.post_form(SECOND_FACTOR_URL, {"code": old[1]}).status_code == 422
    assert client.post_form(SECOND_FACTOR_URL, {"code": new[1]}).location == "/admin/"


def test_turning_the_authenticator_off_needs_a_code_or_the_password(
    client: WebClient, customer_user: User, totp_clock: Clock
) -> None:
    client.sign_in(customer_user)
    secret, _codes = enrol(client, customer_user, totp_clock)
    url = "/settings/two-factor/totp/disable"
    assert client.post_form(url, {"credential": "123456"}).status_code == 422
    assert client.post_form(url, {"credential": code_at(secret, totp_clock.now)}).location == (
        "/settings"
    )
    db.session.refresh(customer_user)
    assert customer_user.two_factor_method is None
    assert customer_user.totp_secret is None
    assert count_rows(RecoveryCode) == 0
    client.post_form("/logout")
    response = client.post_form(
        "/login", {"email": customer_user.email, "password": factories.PASSWORD}
    )
    assert response.location == "/"  # back to the password only


def test_an_admin_without_the_app_falls_back_to_mailed_codes(
    client: WebClient, admin: User, totp_clock: Clock
) -> None:
    client.sign_in(admin)
    enrol(client, admin, totp_clock)
    url = "/settings/two-factor/totp/disable"
    assert client.post_form(url, {"credential": factories.PASSWORD}).location == "/settings"
    client.post_form("/logout")
    sign_in_until_second_step(client, admin.email)
    assert "We mailed you a 6-digit code" in client.get(SECOND_FACTOR_URL).text


def test_audit_and_logs_hold_no_secrets(
    client: WebClient, admin: User, totp_clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.sign_in(admin)
    secret, first_codes = enrol(client, admin, totp_clock)
    page = client.post_form(
        "/settings/two-factor/recovery-codes", {"credential": factories.PASSWORD}
    )
    codes = first_codes + re.findall(r"<li><code>([0-9a-f-]{11})</code></li>", page.text)
    client.post_form("/logout")
    sign_in_until_second_step(client, admin.email)
    assert client.post_form(SECOND_FACTOR_URL, {"code": codes[12]}).location == "/admin/"
    client.post_form("/settings/two-factor/totp/disable", {"credential": factories.PASSWORD})
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.actor_id == admin.id))
    actions = {e.action: e.details for e in events}
    assert {
        "user.totp_enrolled",
        "user.recovery_codes_regenerated",
        "user.recovery_code_used",
        "user.totp_disabled",
    } <= set(actions)
    text = caplog.text + repr(actions)
    assert secret not in text
    assert not any(code in text for code in codes)
    assert factories.PASSWORD not in text
