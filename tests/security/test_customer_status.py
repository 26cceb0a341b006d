"""Suspended and closed customers: no sign-in, sessions end at the next request, API keys
answer 403, no new keys, no password reset; a reactivated customer works again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import count_rows
from tests.security.test_password_reset import ask, confirm, reset_code
from tests.sign_in import sign_in_with_form
from tests.webclient import WebClient, web_client
from vaulta import mail
from vaulta.extensions import db
from vaulta.models import ApiKey, AuditEvent, Customer, User
from vaulta.models.customer import CUSTOMER_CLOSED, CUSTOMER_SUSPENDED
from vaulta.services.banking import customers
from vaulta.services.errors import CustomerNotActive, InvalidCredentials, InvalidInput
from vaulta.services.identity import api_keys, password_reset, signed_in, users

STATUSES = [CUSTOMER_SUSPENDED, CUSTOMER_CLOSED]


def change_status(user: User, status: str, admin: User) -> None:
    """Suspend or close the user's customer through the service, as an admin would."""
    assert user.customer_id is not None
    if status == CUSTOMER_SUSPENDED:
        customers.suspend_customer(user.customer_id, actor=admin)
    else:
        customers.close_customer(user.customer_id, actor=admin)  # no open accounts


@pytest.mark.parametrize("status", STATUSES)
def test_the_customers_logins_cannot_sign_in(
    app: Flask, customer_user: User, admin: User, status: str
) -> None:
    change_status(customer_user, status, admin)
    client = web_client(app)
    refused = sign_in_with_form(client, customer_user.email)
    assert refused.status_code == 403
    assert f"This customer profile is {status}. Contact the bank." in refused.text
    assert client.get("/").status_code == 302  # not signed in
    # A wrong password learns nothing about the profile: the one generic message.
    wrong = sign_in_with_form(web_client(app), customer_user.email, "not the password at all")
    assert wrong.status_code == 422
    assert users.GENERIC_LOGIN_ERROR in wrong.text
    assert status not in wrong.text


def test_the_status_is_told_only_after_a_correct_password(
    app: Flask, customer_user: User, admin: User
) -> None:
    change_status(customer_user, CUSTOMER_SUSPENDED, admin)
    with pytest.raises(InvalidCredentials):
        users.authenticate(customer_user.email, "not the password at all")
    with pytest.raises(CustomerNotActive) as refused:
        users.authenticate(customer_user.email, factories.PASSWORD)
    assert refused.value.code == "customer_suspended"
    assert refused.value.status == 403


@pytest.mark.parametrize("status", STATUSES)
def test_a_live_session_ends_at_the_next_request(
    app: Flask, customer_user: User, admin: User, status: str
) -> None:
    client = web_client(app)
    assert sign_in_with_form(client, customer_user.email).status_code == 302
    assert client.get("/").status_code == 200
    change_status(customer_user, status, admin)
    page = client.get("/")
    assert page.status_code == 302
    assert page.location.startswith("/login")
    assert client.htmx("GET", "/payments/").headers.get("HX-Redirect", "").startswith("/login")
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.in_(["customer.suspend", "customer.close"]))
    ).one()
    assert event.details is not None
    assert event.details["sessions_ended"] == 1


def test_a_status_changed_outside_the_service_ends_the_session_too(
    app: Flask, customer_client: WebClient, customer_user: User
) -> None:
    """The per-request user check reads the customer's status itself: a status written by
    another path (a script, a migration) ends the session without a token rotation."""
    assert customer_client.get("/").status_code == 200
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == customer_user.customer_id)
        .values(status=CUSTOMER_SUSPENDED)
    )
    db.session.commit()
    assert customer_client.get("/").status_code == 302
    assert signed_in.by_session_token(customer_user.session_token) is None


@pytest.mark.parametrize("status", STATUSES)
def test_api_keys_answer_403_and_are_not_marked_used(
    app: Flask, customer_user: User, admin: User, status: str
) -> None:
    raw = api_keys.create(customer_user, "integration", ["read"]).raw
    bearer = {"Authorization": f"Bearer {raw}"}
    client = web_client(app)
    assert client.get("/api/v1/accounts", headers=bearer).status_code == 200
    used_at = db.session.scalars(sa.select(ApiKey.last_used_at)).one()
    change_status(customer_user, status, admin)
    response = client.get("/api/v1/accounts", headers=bearer)
    assert response.status_code == 403
    assert response.json is not None
    assert response.json["error"]["code"] == f"customer_{status}"
    assert "Contact the bank" in response.json["error"]["message"]
    assert db.session.scalars(sa.select(ApiKey.last_used_at)).one() == used_at


def test_no_api_key_can_be_created_while_suspended(customer_user: User, admin: User) -> None:
    change_status(customer_user, CUSTOMER_SUSPENDED, admin)
    with pytest.raises(CustomerNotActive):
        api_keys.create(customer_user, "sneaky", ["read", "payments:write"])
    assert count_rows(ApiKey) == 0


def test_password_reset_does_not_let_them_in(
    app: Flask, client: WebClient, customer_user: User, admin: User
) -> None:
    ask(client, customer_user.email)
    code_before = reset_code(customer_user.email)  # asked while still active
    change_status(customer_user, CUSTOMER_SUSPENDED, admin)
    sent_before = len(mail.outbox(limit=200))
    answer = ask(web_client(app), customer_user.email)
    assert answer.status_code == 200  # the same answer as for any address …
    assert len(mail.outbox(limit=200)) == sent_before  # … but no code for a frozen profile
    used = confirm(client, customer_user.email, code_before)
    assert used.status_code == 422
    assert password_reset.INVALID_CODE in used.text
    with pytest.raises(InvalidInput):
        password_reset.reset_password(customer_user.email, code_before, "a brand new passphrase")
    assert sign_in_with_form(web_client(app), customer_user.email).status_code == 403


def test_a_reactivated_customer_works_again_but_old_sessions_stay_ended(
    app: Flask, customer_user: User, admin: User
) -> None:
    raw = api_keys.create(customer_user, "integration", ["read"]).raw
    bearer = {"Authorization": f"Bearer {raw}"}
    old = web_client(app)
    assert sign_in_with_form(old, customer_user.email).status_code == 302
    change_status(customer_user, CUSTOMER_SUSPENDED, admin)
    assert customer_user.customer_id is not None
    customers.reactivate_customer(customer_user.customer_id, actor=admin)
    assert old.get("/").status_code == 302  # its session identifier was rotated
    fresh = web_client(app)
    assert sign_in_with_form(fresh, customer_user.email).status_code == 302
    assert fresh.get("/").status_code == 200
    assert fresh.get("/api/v1/accounts", headers=bearer).status_code == 200
    assert api_keys.create(customer_user, "another", ["read"]).raw


def test_admins_and_other_customers_are_untouched(
    app: Flask, customer_user: User, other_customer_user: User, admin: User
) -> None:
    change_status(customer_user, CUSTOMER_SUSPENDED, admin)
    other = web_client(app)
    assert sign_in_with_form(other, other_customer_user.email).status_code == 302
    assert other.get("/").status_code == 200
    assert signed_in.by_session_token(admin.session_token) is not None
