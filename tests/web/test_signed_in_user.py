"""The signed-in user: read by the session's token on every request (one statement), only
while the login is active; ``current_user`` is that ``User``, and it is the actor views
pass to services."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask_login import current_user, login_user

from tests import factories
from tests.helpers import sql_statements
from tests.webclient import WebClient
from vaulta.auth.access import acting_user
from vaulta.extensions import db
from vaulta.models import User
from vaulta.services.identity import signed_in, users


def test_by_session_token_finds_the_active_user(app: Flask, admin: User) -> None:
    user = signed_in.by_session_token(admin.session_token)
    assert isinstance(user, User)
    assert user.id == admin.id
    assert (user.is_authenticated, user.is_active, user.is_anonymous) == (True, True, False)
    assert user.get_id() == admin.session_token
    assert user.is_staff


def test_no_user_for_a_missing_rotated_or_inactive_token(app: Flask, admin: User) -> None:
    assert signed_in.by_session_token("") is None
    assert signed_in.by_session_token("no-such-token") is None
    old = admin.session_token
    users.rotate_session(admin)
    assert signed_in.by_session_token(old) is None
    fresh = db.session.get(User, admin.id)
    fresh.is_active = False
    db.session.commit()
    assert signed_in.by_session_token(fresh.session_token) is None


def test_a_page_checks_the_user_with_one_statement(teller_client: WebClient) -> None:
    """The login and its roles (the permission check): one statement."""
    with sql_statements() as statements:
        assert teller_client.get("/admin/customers/").status_code == 200
    [check] = [s for s in statements if "FROM users" in s]
    assert "session_token" in check.split("WHERE", 1)[1]
    assert "user_roles" in check
    assert not [s for s in statements if "FROM user_roles" in s]
    assert "password_hash" not in check  # no secrets in every request's user
    assert "totp_secret" not in check


def test_current_user_is_the_acting_user(app: Flask, admin: User) -> None:
    with app.test_request_context("/"):
        login_user(signed_in.by_session_token(admin.session_token))
        actor = acting_user()
        assert isinstance(actor, User)
        assert actor.id == admin.id
        assert current_user._get_current_object() is actor


def test_each_request_reads_the_user_afresh(client: WebClient) -> None:
    """Nothing about the user is kept in the process between requests."""
    customer = factories.make_customer_login("mia@example.test")
    client.sign_in(customer)
    assert "Mia B" not in client.get("/settings").get_data(as_text=True)
    db.session.execute(sa.update(User).where(User.id == customer.id).values(full_name="Mia B"))
    db.session.commit()
    assert "Mia B" in client.get("/settings").get_data(as_text=True)
