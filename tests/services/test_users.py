"""Logins without HTTP: argon2id hashes, generic failures, rehash, session rotation."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import factories
from vaulta.extensions import db
from vaulta.models import User
from vaulta.services.errors import Conflict, InvalidCredentials, InvalidInput
from vaulta.services.identity import signed_in, users


def test_passwords_are_stored_as_argon2id(app: Flask) -> None:
    user = factories.make_admin("Boss@Example.TEST ")
    assert user.email == "boss@example.test"
    assert user.password_hash.startswith("$argon2id$")
    assert factories.PASSWORD not in user.password_hash


def test_authenticate_by_normalised_email(app: Flask) -> None:
    factories.make_admin("boss@example.test")
    user = users.authenticate("  BOSS@example.test", factories.PASSWORD)
    assert user.last_login_at is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [("boss@example.test", "wrong password!!"), ("nobody@example.test", factories.PASSWORD)],
)
def test_failures_share_one_message(app: Flask, email: str, password: str) -> None:
    factories.make_admin("boss@example.test")
    with pytest.raises(InvalidCredentials) as err:
        users.authenticate(email, password)
    assert err.value.message == users.GENERIC_LOGIN_ERROR


def test_inactive_users_cannot_sign_in(app: Flask) -> None:
    user = factories.make_admin("boss@example.test")
    user.is_active = False
    db.session.commit()
    with pytest.raises(InvalidCredentials):
        users.authenticate("boss@example.test", factories.PASSWORD)
    assert signed_in.by_session_token(user.session_token) is None


def test_outdated_hash_parameters_are_upgraded_on_login(app: Flask) -> None:
    factories.make_admin("boss@example.test")
    app.config["ARGON2_TIME_COST"] = 2
    user = users.authenticate("boss@example.test", factories.PASSWORD)
    assert "t=2" in user.password_hash


def test_rotating_the_session_token_revokes_sessions(app: Flask) -> None:
    user = factories.make_admin("boss@example.test")
    old = user.session_token
    users.rotate_session(user)
    assert signed_in.by_session_token(old) is None
    assert isinstance(signed_in.by_session_token(db.session.get(User, user.id).session_token), User)


def test_duplicate_email_and_short_password_refused(app: Flask) -> None:
    factories.make_admin("boss@example.test")
    with pytest.raises(Conflict):
        factories.make_admin("BOSS@example.test")
    with pytest.raises(InvalidInput, match="12 characters"):
        factories.make_admin("new@example.test", password="short")


def test_customer_logins_need_a_customer_and_admins_cannot_have_one(app: Flask) -> None:
    customer = factories.make_customer()
    with pytest.raises(InvalidInput):
        users.create_user("c@example.test", factories.PASSWORD, role="customer", full_name="C")
    with pytest.raises(InvalidInput):
        users.create_user(
            "a@example.test", factories.PASSWORD, role="admin", full_name="A", customer=customer
        )
