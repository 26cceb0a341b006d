"""The signed-in user is read per request as a snapshot (no ORM load); acting_user() loads
the ORM User that services take, and it then becomes current_user for the request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_login import current_user, login_user
from sqlalchemy import event

from tests import factories
from tests.webclient import WebClient
from vaulta.auth.session import acting_user
from vaulta.extensions import db
from vaulta.models import User
from vaulta.models.user import TWO_FACTOR_EMAIL, TWO_FACTOR_TOTP
from vaulta.services import signed_in, users
from vaulta.services.signed_in import SignedInUser


def test_by_session_token_reads_the_fields_of_the_row(app: Flask, admin: User) -> None:
    user = signed_in.by_session_token(admin.session_token)
    assert user == SignedInUser(
        id=admin.id,
        email=admin.email,
        role=admin.role,
        full_name=admin.full_name,
        customer_id=None,
        two_factor_method=None,
        session_token=admin.session_token,
    )
    assert (user.is_authenticated, user.is_active, user.is_anonymous) == (True, True, False)
    assert user.get_id() == admin.session_token
    assert user.is_admin


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


@pytest.mark.parametrize("role", ["admin", "customer"])
@pytest.mark.parametrize("method", [None, TWO_FACTOR_EMAIL, TWO_FACTOR_TOTP])
def test_second_factor_and_role_agree_with_the_model(
    app: Flask, role: str, method: str | None
) -> None:
    orm = User(role=role, two_factor_method=method)
    snapshot = SignedInUser(1, "x@example.test", role, "X", None, method, "t")
    assert (snapshot.second_factor, snapshot.is_admin) == (orm.second_factor, orm.is_admin)


def test_a_page_view_does_not_load_the_user_through_the_orm(
    admin_client: WebClient, admin: User
) -> None:
    statements: list[str] = []

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert admin_client.get("/admin/customers/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    [check] = [s for s in statements if "FROM users" in s]
    assert "password_hash" not in check
    assert "totp_secret" not in check


def test_acting_user_loads_the_orm_user_and_makes_it_current(app: Flask, admin: User) -> None:
    with app.test_request_context("/"):
        login_user(signed_in.by_session_token(admin.session_token))
        assert isinstance(current_user._get_current_object(), SignedInUser)
        actor = acting_user()
        assert isinstance(actor, User)
        assert actor.id == admin.id
        assert current_user._get_current_object() is actor
        assert acting_user() is actor


def test_each_request_reads_the_user_afresh(client: WebClient) -> None:
    """The snapshot lives for one request: nothing about the user is kept in the process."""
    customer = factories.make_customer_login("mia@example.test")
    client.sign_in(customer)
    assert "Mia B" not in client.get("/settings").get_data(as_text=True)
    db.session.execute(sa.update(User).where(User.id == customer.id).values(full_name="Mia B"))
    db.session.commit()
    assert "Mia B" in client.get("/settings").get_data(as_text=True)
