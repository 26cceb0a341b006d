"""Staff keys ask for limits and blocks as change requests: 202 while they await approval,
the change only once approved; 403 without the permission, 404 for an unknown object, 409
for a duplicate or impossible change, 422 for invalid input. Accounts show their overdraft
limit."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import factories
from tests.api.conftest import make_key, payment_body
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, Customer, User
from vaulta.services.changes import change_requests
from vaulta.services.identity import api_keys

TELLER_SCOPES = ["accounts.manage", "customers.manage", "read"]


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def account(customer_user: User) -> Account:
    return factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)


@pytest.fixture
def teller_key(app: Flask, teller: User) -> dict[str, str]:
    return bearer(api_keys.create_for_staff(teller, "Till", TELLER_SCOPES, actor=None).raw)


def _fresh(account: Account) -> Account:
    db.session.rollback()
    found = db.session.get(Account, account.id, populate_existing=True)
    assert found is not None
    return found


def test_an_overdraft_limit_waits_for_two_approvers(
    client: WebClient,
    teller_key: dict,
    account: Account,
    approver: User,
    second_approver: User,
) -> None:
    url = f"/api/v1/accounts/{account.number}/overdraft-limit"
    response = client.post(url, json={"overdraft_limit_minor": 25_000}, headers=teller_key)
    assert response.status_code == 202, response.json
    body = response.json
    assert (body["action"], body["status"]) == ("account.overdraft", "pending")
    assert body["before"] == {"overdraft_limit_minor": 0}
    assert body["after"] == {"overdraft_limit_minor": 25_000}
    assert response.headers["Location"] == f"/api/v1/change-requests/{body['id']}"
    again = client.post(url, json={"overdraft_limit_minor": 30_000}, headers=teller_key)
    assert again.status_code == 409
    change_requests.approve(body["id"], actor=approver)
    change_requests.approve(body["id"], actor=second_approver)
    assert _fresh(account).overdraft_limit_minor == 25_000


@pytest.mark.parametrize(
    "body",
    [{}, {"overdraft_limit_minor": -1}, {"overdraft_limit_minor": "5"}, {"x": 1}],
)
def test_bad_overdraft_bodies_are_422(
    client: WebClient, teller_key: dict, account: Account, body: dict
) -> None:
    response = client.post(
        f"/api/v1/accounts/{account.number}/overdraft-limit", json=body, headers=teller_key
    )
    assert response.status_code == 422


def test_unknown_objects_are_404_and_system_accounts_409(
    client: WebClient, teller_key: dict
) -> None:
    body = {"overdraft_limit_minor": 1}
    for number in ("0000000000", "abc"):
        response = client.post(
            f"/api/v1/accounts/{number}/overdraft-limit", json=body, headers=teller_key
        )
        assert response.status_code == 404
    limit = {"daily_outgoing_limit_minor": 1}
    for number in ("C00000000", "nope"):
        response = client.post(
            f"/api/v1/customers/{number}/daily-limit", json=limit, headers=teller_key
        )
        assert response.status_code == 404


def test_blocks_and_unblock(
    client: WebClient, teller_key: dict, account: Account, approver: User
) -> None:
    base = f"/api/v1/accounts/{account.number}"
    response = client.post(f"{base}/debit-block", json={"reason": "Fraud"}, headers=teller_key)
    assert response.status_code == 202, response.json
    assert response.json["after"] == {"status": "debit_blocked"}
    change_requests.approve(response.json["id"], actor=approver)
    assert _fresh(account).status == "debit_blocked"
    assert client.post(f"{base}/credit-block", json={}, headers=teller_key).status_code == 409
    unblock = client.post(f"{base}/unblock", json={}, headers=teller_key)
    assert unblock.status_code == 202
    change_requests.approve(unblock.json["id"], actor=approver)
    assert _fresh(account).status == "active"


def test_daily_limit_is_set_and_removed(
    client: WebClient, teller_key: dict, account: Account, approver: User
) -> None:
    customer = db.session.get(Customer, account.customer_id)
    assert customer is not None
    url = f"/api/v1/customers/{customer.customer_number}/daily-limit"
    response = client.post(url, json={"daily_outgoing_limit_minor": 50_000}, headers=teller_key)
    assert response.status_code == 202, response.json
    change_requests.approve(response.json["id"], actor=approver)
    removed = client.post(url, json={"daily_outgoing_limit_minor": None}, headers=teller_key)
    assert removed.status_code == 202
    assert removed.json["after"] == {"daily_outgoing_limit_minor": None}
    assert client.post(url, json={}, headers=teller_key).status_code == 422


def test_without_the_permission_the_call_is_403(
    client: WebClient, app: Flask, approver: User, account: Account
) -> None:
    key = bearer(api_keys.create_for_staff(approver, "Desk", ["read"], actor=None).raw)
    response = client.post(f"/api/v1/accounts/{account.number}/debit-block", json={}, headers=key)
    assert response.status_code == 403


def test_customers_see_their_overdraft_limit(
    client: WebClient, customer_user: User, account: Account
) -> None:
    stored = _fresh(account)
    stored.overdraft_limit_minor = 5_000
    db.session.commit()
    key = bearer(make_key(customer_user, ("read",)))
    listed = client.get("/api/v1/accounts", headers=key).json["items"]
    assert [a["overdraft_limit_minor"] for a in listed] == [5_000]
    one = client.get(f"/api/v1/accounts/{account.number}", headers=key).json
    assert (one["overdraft_limit_minor"], one["status"]) == (5_000, "active")


def test_an_api_payment_over_the_daily_limit_is_422(
    client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    customer = db.session.get(Customer, source.customer_id)
    assert customer is not None
    customer.daily_outgoing_limit_minor = 2_000
    db.session.commit()
    key = bearer(make_key(customer_user))
    first = client.post(
        "/api/v1/payments",
        json=payment_body(source, target),
        headers={**key, "Idempotency-Key": "a1"},
    )
    assert first.status_code == 201, first.json
    second = client.post(
        "/api/v1/payments",
        json=payment_body(source, target),
        headers={**key, "Idempotency-Key": "a2"},
    )
    assert second.status_code == 422
    (detail,) = second.json["error"]["details"]
    assert "above the daily limit of 20.00 EUR" in detail["message"]
