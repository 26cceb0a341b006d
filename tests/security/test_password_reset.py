"""Password reset by mailed code: no account enumeration, single-use codes, attempts, policy,
sessions ending, throttling, CSRF, and no code in logs or in plain text in the database."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import count_rows, mailed_code, sql_statements
from tests.security.conftest import copy_session
from tests.sign_in import SECOND_FACTOR_URL, sign_in_with_form
from tests.webclient import WebClient, web_client
from vaulta import mail
from vaulta.extensions import db
from vaulta.models import OTP, AuditEvent, Base, User, utcnow
from vaulta.services.errors import InvalidInput
from vaulta.services.identity import otp, password_reset

RESET_URL = "/login/reset"
CONFIRM_URL = "/login/reset/confirm"
NEW_PASSWORD = "seven purple elephants sing opera at dawn"
SENT = "If an account exists for that address, we have sent a code"


def unknown_email() -> str:
    return f"nobody-{uuid.uuid4().hex[:10]}@example.test"


def ask(client: WebClient, email: str, address: str = "127.0.0.1") -> Any:
    return client.post_form(RESET_URL, {"email": email}, environ_base={"REMOTE_ADDR": address})


def confirm(
    client: WebClient,
    email: str,
    code: str,
    password: str = NEW_PASSWORD,
    address: str = "127.0.0.1",
) -> Any:
    data = {"email": email, "code": code, "new_password": password, "confirm_password": password}
    return client.post_form(CONFIRM_URL, data, environ_base={"REMOTE_ADDR": address})


def reset_code(email: str) -> str:
    return mailed_code(email, password_reset.MAIL_SUBJECT)


def normalised(body: str, email: str) -> str:
    """The page without what differs by design: the typed address and the CSRF token."""
    body = body.replace(email, "EMAIL")
    for token in set(
        re.findall(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', body)
    ):
        body = body.replace(token, "CSRF")
    return body


def cookie_names(response: Any) -> list[str]:
    return sorted(h.split("=", 1)[0] for h in response.headers.getlist("Set-Cookie"))


def test_the_login_page_links_to_the_reset(client: WebClient) -> None:
    page = client.get("/login").text
    assert "Forgot your password?" in page
    assert f'href="{RESET_URL}"' in page
    assert client.get(RESET_URL).status_code == 200
    assert client.get(CONFIRM_URL).status_code == 200


def test_known_and_unknown_addresses_get_the_same_answer(app: Flask, customer_user: User) -> None:
    deactivated = factories.make_customer_login()
    db.session.execute(sa.update(User).where(User.id == deactivated.id).values(is_active=False))
    answers = {}
    for email in (customer_user.email, unknown_email(), deactivated.email):
        fresh = web_client(app)
        fresh.get(RESET_URL).close()  # a browser opens the page first: the session exists
        response = ask(fresh, email)
        assert response.status_code == 200
        assert SENT in response.text
        answers[email] = (normalised(response.text, email), cookie_names(response))
    bodies = {body for body, _ in answers.values()}
    assert len(bodies) == 1
    assert {tuple(names) for _, names in answers.values()} <= {(), ("session",)}
    # Only the active login got a code.
    recipients = [m["to"] for m in mail.outbox(limit=200)]
    assert customer_user.email in recipients
    assert deactivated.email not in recipients
    assert count_rows(OTP) == 1


def test_an_unknown_address_writes_nothing(app: Flask, client: WebClient) -> None:
    client.get(RESET_URL).close()
    with sql_statements() as seen:
        assert ask(client, unknown_email()).status_code == 200
    writes = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


def test_a_code_resets_the_password_once(client: WebClient, customer_user: User) -> None:
    ask(client, customer_user.email.upper())  # the address is matched case-insensitively
    code = reset_code(customer_user.email)
    response = confirm(client, customer_user.email, code)
    assert response.status_code == 302
    assert response.location == "/login"
    assert "Your password is reset" in client.get("/login").text
    assert client.get("/settings").status_code == 302  # not signed in automatically
    again = confirm(client, customer_user.email, code, "another long phrase of unrelated words")
    assert again.status_code == 422
    assert password_reset.INVALID_CODE in again.text
    assert sign_in_with_form(client, customer_user.email).status_code == 422
    assert sign_in_with_form(client, customer_user.email, NEW_PASSWORD).status_code == 302
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "user.password_reset")
    ).one()
    assert event.actor_id == customer_user.id
    assert code not in str(event.details)
    assert NEW_PASSWORD not in str(event.details)


def test_an_admin_resets_and_still_needs_the_second_factor(client: WebClient, admin: User) -> None:
    ask(client, admin.email)
    assert confirm(client, admin.email, reset_code(admin.email)).status_code == 302
    response = client.post_form("/login", {"email": admin.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.location == SECOND_FACTOR_URL
    assert client.get("/admin/").status_code == 302


def test_wrong_combinations_get_one_message(client: WebClient, customer_user: User) -> None:
    ask(client, customer_user.email)
    code = reset_code(customer_user.email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = []
    for email, attempt in (
        (customer_user.email, wrong),
        (unknown_email(), code),
        (factories.make_admin().email, code),  # a real login without a reset code
    ):
        response = confirm(client, email, attempt)
        assert response.status_code == 422
        assert password_reset.INVALID_CODE in response.text
        assert "left" not in response.text  # no attempt counter that would confirm the account
        answers.append(normalised(response.text, email).replace(attempt, "CODE"))
    assert len(set(answers)) == 1
    assert confirm(client, customer_user.email, code).status_code == 302


def test_five_wrong_codes_lock_the_code(client: WebClient, customer_user: User) -> None:
    ask(client, customer_user.email)
    code = reset_code(customer_user.email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert confirm(client, customer_user.email, wrong).status_code == 422
    response = confirm(client, customer_user.email, code)
    assert response.status_code == 422
    assert password_reset.INVALID_CODE in response.text
    # A new code works again (and the old one stays dead).
    ask(client, customer_user.email)
    assert confirm(client, customer_user.email, reset_code(customer_user.email)).status_code == 302


def test_expired_and_other_purpose_codes_are_refused(app: Flask, customer_user: User) -> None:
    old = otp.issue(
        customer_user, password_reset.PURPOSE, None, now=utcnow() - timedelta(minutes=6)
    )
    with pytest.raises(InvalidInput) as expired:
        password_reset.reset_password(customer_user.email, old, NEW_PASSWORD)
    assert expired.value.message == password_reset.INVALID_CODE
    assert expired.value.field == "code"
    for purpose, subject in (
        ("login_2fa", None),
        ("login_2fa", "attempt"),
        (otp.PAYMENT_CONFIRM, "1"),
    ):
        other = otp.issue(customer_user, purpose, subject)
        with pytest.raises(InvalidInput, match="not valid"):
            password_reset.reset_password(customer_user.email, other, NEW_PASSWORD)


def test_a_weak_password_shows_the_field_error_and_keeps_the_code(
    client: WebClient, customer_user: User
) -> None:
    ask(client, customer_user.email)
    code = reset_code(customer_user.email)
    response = confirm(client, customer_user.email, code, "password1234")
    assert response.status_code == 422
    assert "too common" in response.text
    assert 'id="new_password-error"' in response.text
    data = {"email": customer_user.email, "code": code, "new_password": NEW_PASSWORD}
    differ = client.post_form(CONFIRM_URL, {**data, "confirm_password": NEW_PASSWORD + "x"})
    assert differ.status_code == 422
    assert "The passwords differ." in differ.text
    assert confirm(client, customer_user.email, code).status_code == 302


def test_a_reset_ends_every_session(app: Flask, client: WebClient, customer_user: User) -> None:
    client.sign_in(customer_user)
    assert client.get("/settings").status_code == 200
    thief = copy_session(client, app)
    other_browser = web_client(app)
    ask(other_browser, customer_user.email)
    assert (
        confirm(other_browser, customer_user.email, reset_code(customer_user.email)).status_code
        == 302
    )
    assert thief.get("/settings").status_code == 302
    assert client.get("/settings").status_code == 302


def test_asking_is_throttled_per_address_and_per_email(
    app: Flask, client: WebClient, customer_user: User
) -> None:
    app.config["RATELIMIT_LOGIN"] = "2/minute"
    for _ in range(2):
        assert ask(client, unknown_email()).status_code == 200
    assert ask(client, unknown_email()).status_code == 429
    assert ask(client, unknown_email(), address="10.0.0.9").status_code == 200
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "2/minute"
    for n in range(2):
        assert ask(client, customer_user.email, address=f"10.0.1.{n}").status_code == 200
    assert ask(client, customer_user.email, address="10.0.1.9").status_code == 429


def test_confirming_is_throttled_per_address_and_per_email(
    app: Flask, client: WebClient, customer_user: User
) -> None:
    app.config["RATELIMIT_PASSCODE"] = "2/minute"
    for n in range(2):
        assert (
            confirm(client, customer_user.email, "000000", address=f"10.0.2.{n}").status_code == 422
        )
    assert confirm(client, customer_user.email, "000000", address="10.0.2.9").status_code == 429
    app.config["RATELIMIT_LOGIN"] = "3/minute"
    for _ in range(3):
        assert confirm(client, unknown_email(), "000000", address="10.0.3.1").status_code == 422
    response = confirm(client, unknown_email(), "000000", address="10.0.3.1")
    assert response.status_code == 429
    assert "Too many requests" in response.text


def test_both_steps_refuse_a_post_without_csrf(client: WebClient, customer_user: User) -> None:
    assert client.post(RESET_URL, data={"email": customer_user.email}).status_code == 400
    data = {"email": customer_user.email, "code": "123456", "new_password": NEW_PASSWORD}
    assert (
        client.post(CONFIRM_URL, data={**data, "confirm_password": NEW_PASSWORD}).status_code == 400
    )
    assert count_rows(OTP) == 0


def test_the_code_is_never_logged_or_stored_in_plain_text(
    client: WebClient, customer_user: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ask(client, customer_user.email)
    code = reset_code(customer_user.email)
    assert confirm(client, customer_user.email, code).status_code == 302
    assert code not in caplog.text
    assert NEW_PASSWORD not in caplog.text
    for table in Base.metadata.sorted_tables:
        texts = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON)]
        for row in db.session.execute(sa.select(*texts)).all() if texts else []:
            assert code not in str(row), table.name
            assert NEW_PASSWORD not in str(row), table.name
