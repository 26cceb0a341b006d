"""Maintenance mode on SQLite and PostgreSQL: writes (web form, htmx, API, sign-in) get 503
with Retry-After, reads keep working, sign-out still signs out, /healthz says so, and a
service write is refused inside its transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.api.conftest import make_key, payment_body
from tests.change_steps import approve_newest
from tests.helpers import balance, count_rows
from tests.services.payments.factories import backdate_expiry, make_payment, status_of
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, ApiKey, Customer, Payment, User, utcnow
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services import maintenance
from vaulta.services.banking import customers
from vaulta.services.maintenance import UnderMaintenance

REASON = "Upgrading to 2.4"


@pytest.fixture
def under_maintenance(app: Flask) -> Iterator[None]:
    maintenance.turn_on(db.engine, REASON, "tests")
    yield
    maintenance.turn_off(db.engine)


@pytest.fixture
def account(customer_user: User) -> Account:
    return factories.make_account(factories.customer_of(customer_user), "EUR", 50_000)


def test_a_web_form_write_gets_a_503_page_and_changes_nothing(
    teller_client: WebClient, account: Account, under_maintenance: None
) -> None:
    form = {
        "deposit-amount": "10.00",
        "deposit-description": "Cash",
        "deposit-idempotency_key": uuid.uuid4().hex,
    }
    response = teller_client.post_form(f"/admin/accounts/{account.id}/deposit", form)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"  # MAINTENANCE_RETRY_AFTER_SECONDS
    page = response.get_data(as_text=True)
    assert "<html" in page
    assert f"VAULTA is under maintenance ({REASON})" in page
    assert "nothing was changed" in page
    assert "Content-Security-Policy" in response.headers
    assert balance(account.id, fresh=True) == 50_000


def test_an_htmx_write_gets_the_message_in_the_message_area(
    teller_client: WebClient, account: Account, under_maintenance: None
) -> None:
    response = teller_client.htmx("POST", f"/admin/accounts/{account.id}/freeze", data={})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    assert response.headers["HX-Retarget"] == "#messages"
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "under maintenance" in body
    db.session.rollback()
    assert db.session.get(Account, account.id).status == "active"


def test_an_api_write_gets_json_503_and_reads_keep_working(
    client: WebClient, customer_user: User, account: Account
) -> None:
    key = make_key(customer_user)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    maintenance.turn_on(db.engine, REASON, "tests")
    response = client.post(
        "/api/v1/payments", json=payment_body(account), headers={"Idempotency-Key": "m-1"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    assert response.json["error"]["code"] == "maintenance"
    assert REASON in response.json["error"]["message"]
    assert count_rows(Payment) == 0

    listed = client.get("/api/v1/accounts")
    assert listed.status_code == 200
    assert [a["number"] for a in listed.json["items"]] == [account.number]
    assert client.get(f"/api/v1/accounts/{account.number}/transactions").status_code == 200
    db.session.rollback()  # the key's use is not recorded while nothing may be written
    assert db.session.scalar(sa.select(ApiKey.last_used_at)) is None


def test_pages_keep_working_and_leave_due_payments_for_later(
    app: Flask, customer_client: WebClient, customer_user: User, account: Account
) -> None:
    payment = make_payment(customer_user, account, amount="1.00")
    backdate_expiry(payment)
    maintenance.turn_on(db.engine, REASON, "tests")
    pages = ("/", f"/accounts/{account.number}", "/payments/", f"/payments/{payment.id}")
    for url in (*pages, "/payments/new", "/settings"):
        assert customer_client.get(url).status_code == 200, url
    assert status_of(payment.id) == PAYMENT_PENDING  # its expiry waits for the window's end
    maintenance.turn_off(db.engine)
    assert customer_client.get("/payments/").status_code == 200
    assert status_of(payment.id) == "expired"


def test_signing_in_is_paused_with_a_clear_message(
    client: WebClient, teller: User, under_maintenance: None
) -> None:
    assert client.get("/login").status_code == 200
    data = {"email": teller.email, "password": factories.PASSWORD}
    response = client.post_form("/login", data)
    assert response.status_code == 503
    assert "Signing in is paused while VAULTA is under maintenance" in response.get_data(
        as_text=True
    )


def test_signing_out_still_ends_the_browsers_session(
    teller_client: WebClient, teller: User, under_maintenance: None
) -> None:
    token = teller.session_token
    response = teller_client.post_form("/logout")
    assert response.status_code == 302
    assert response.location == "/login"
    page = teller_client.get("/login").get_data(as_text=True)
    assert "signed out in this browser" in page
    assert teller_client.get("/admin/").status_code == 302  # no longer signed in here
    db.session.rollback()
    assert db.session.get(User, teller.id).session_token == token  # nothing was written


def test_healthz_says_maintenance_with_200(client: WebClient, under_maintenance: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200  # reads are served: a balancer keeps the instance
    assert response.json["status"] == "maintenance"
    assert response.json["database"] == "ok"
    assert response.json["maintenance"]["reason"] == REASON
    assert response.json["maintenance"]["ends_at"] is None


def test_retry_after_counts_down_to_the_expected_end(app: Flask, teller_client: WebClient) -> None:
    maintenance.turn_on(db.engine, REASON, "tests", utcnow() + timedelta(minutes=10))
    response = teller_client.post_form("/admin/customers/new", {"full_name": "Nobody"})
    assert response.status_code == 503
    assert 590 <= int(response.headers["Retry-After"]) <= 600
    assert "expected to end at" in response.get_data(as_text=True)
    maintenance.turn_off(db.engine)


def test_writes_work_again_once_it_is_off(
    app: Flask, teller_client: WebClient, account: Account, approver: User
) -> None:
    maintenance.turn_on(db.engine, REASON, "tests")
    maintenance.turn_off(db.engine)
    response = teller_client.post_form(f"/admin/accounts/{account.id}/freeze", {"reason": "x"})
    assert response.status_code == 302
    approve_newest(approver)
    db.session.rollback()
    assert db.session.get(Account, account.id).status == "frozen"
    assert teller_client.get("/healthz").json["status"] == "ok"


def test_a_service_write_is_refused_inside_its_transaction(
    app: Flask, teller: User, under_maintenance: None
) -> None:
    with pytest.raises(UnderMaintenance) as raised:
        customers.create_customer(full_name="Written Anyway", email=None, actor=teller)
    assert raised.value.state.reason == REASON
    assert count_rows(Customer) == 0
