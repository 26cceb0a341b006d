"""The password policy, at creation and on the change-password page."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import factories
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import AuditEvent, User
from vaulta.models.user import ROLE_STAFF
from vaulta.ops.seeding.demo import DEMO_PASSWORD
from vaulta.services.errors import InvalidInput
from vaulta.services.identity import passwords, signed_in, users
from vaulta.services.identity.password_policy import common_passwords, password_problem

PASSPHRASE_100 = (
    "the quick brown fox jumps over the lazy dog while seven purple elephants quietly sing opera "
    "at dawn!"
)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", "at least 12"),
        ("x" * 1025, "at most 1024"),
        ("password1234", "too common"),
        ("Password1234!", "too common"),
        ("qwertyqwerty", "too common"),
        ("1q2w3e4r5t6y", "too common"),
        ("aaaaaaaaaaaa", "too easy"),
        ("abcabcabcabc", "too easy"),
        ("123456789012", "too easy"),
        ("abcdefghijkl", "too easy"),
        ("me@example.test", "email"),
        ("ME@Example.TEST", "email"),
    ],
)
def test_weak_passwords_are_refused(password: str, problem: str) -> None:
    message = password_problem(password, email="me@example.test")
    assert message is not None
    assert problem in message


@pytest.mark.parametrize(
    "password",
    [
        DEMO_PASSWORD,
        factories.PASSWORD,
        PASSPHRASE_100,
        "x" * 1000 + "a long tail",  # long passphrases up to 1024 characters
        "Tr0ub4dor&3 is not enough alone",
    ],
)
def test_good_passwords_and_long_passphrases_are_accepted(password: str) -> None:
    assert password_problem(password, email="me@example.test") is None


def test_the_passphrase_is_100_characters() -> None:
    assert len(PASSPHRASE_100) == 100


def test_the_bundled_list_is_loaded_and_has_the_usual_suspects() -> None:
    listed = common_passwords()
    assert len(listed) > 19_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= listed
    assert DEMO_PASSWORD not in listed


@pytest.mark.parametrize("password", ["password1234", "short", "boss@example.test"])
def test_creation_refuses_weak_passwords(app: Flask, password: str) -> None:
    with pytest.raises(InvalidInput) as err:
        users.create_user("boss@example.test", password, role=ROLE_STAFF, full_name="B")
    assert err.value.field == "password"


def test_creation_accepts_a_100_character_passphrase(app: Flask) -> None:
    user = users.create_user("long@example.test", PASSPHRASE_100, role=ROLE_STAFF, full_name="L")
    assert passwords.verify_password(user.password_hash, PASSPHRASE_100)


@pytest.mark.parametrize(
    ("current", "new", "field", "message"),
    [
        ("wrong current password", "a fine new passphrase", "current_password", "not correct"),
        (factories.PASSWORD, "too short", "new_password", "at least 12"),
        (factories.PASSWORD, "password1234", "new_password", "too common"),
        (factories.PASSWORD, "admin@example.test", "new_password", "email"),
        (factories.PASSWORD, factories.PASSWORD, "new_password", "not used"),
    ],
)
def test_change_password_refusals(
    admin: User, current: str, new: str, field: str, message: str
) -> None:
    token = admin.session_token
    with pytest.raises(InvalidInput) as err:
        users.change_password(admin, current, new)
    assert err.value.field == field
    assert message in err.value.message
    db.session.expire_all()
    assert db.session.get(User, admin.id).session_token == token  # nothing changed


def test_change_password_rotates_the_session_and_is_audited(admin: User) -> None:
    old_token = admin.session_token
    changed = users.change_password(admin, factories.PASSWORD, PASSPHRASE_100)
    assert changed.session_token != old_token
    assert passwords.verify_password(changed.password_hash, PASSPHRASE_100)
    assert signed_in.by_session_token(old_token) is None
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "user.password_changed")
    ).all()
    assert [e.actor_id for e in events] == [admin.id]
    assert PASSPHRASE_100 not in str(events[0].details)


def _change(client: WebClient, current: str, new: str, confirm: str | None = None):
    data = {"current_password": current, "new_password": new, "confirm_password": confirm or new}
    return client.post_form("/settings/password", data)


def test_change_password_page_asks_for_the_current_one(customer_client: WebClient) -> None:
    page = customer_client.get("/settings/password")
    assert page.status_code == 200
    assert 'name="current_password"' in page.text
    assert 'name="new_password"' in page.text
    assert 'autocomplete="new-password"' in page.text


@pytest.mark.parametrize(
    ("current", "new", "confirm", "shown"),
    [
        ("wrong current password", "a fine new passphrase", None, "not correct"),
        (factories.PASSWORD, "password1234", None, "too common"),
        (factories.PASSWORD, "short", None, "at least 12"),
        (factories.PASSWORD, "a fine new passphrase", "a different one", "passwords differ"),
    ],
)
def test_change_password_page_shows_errors_in_place(
    customer_client: WebClient, current: str, new: str, confirm: str | None, shown: str
) -> None:
    response = _change(customer_client, current, new, confirm)
    assert response.status_code == 422
    assert shown in response.text
    assert 'aria-invalid="true"' in response.text


def test_change_password_needs_csrf_and_a_signed_in_user(
    client: WebClient, customer_user: User
) -> None:
    response = client.get("/settings/password")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    client.sign_in(customer_user)
    response = client.post("/settings/password", data={"current_password": factories.PASSWORD})
    assert response.status_code == 400
