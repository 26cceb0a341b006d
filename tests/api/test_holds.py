"""/api/v1 holds: a customer reads their account's holds and available balance; a teller's
key asks to place, capture or release one (202, a change request) that an approver's key
approves; 404 for another customer's account or an unknown hold, 422 for bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from tests import factories
from tests.api.conftest import make_key
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, User, utcnow
from vaulta.services.banking import accounts
from vaulta.services.identity import api_keys
from vaulta.services.ledger import holds

TELLER_SCOPES = [
    "ledger.hold.place.request",
    "ledger.hold.capture.request",
    "ledger.hold.release.request",
    "read",
]
APPROVER_SCOPES = ["requests.decide", "read"]


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def account(customer_user: User) -> Account:
    accounts.system_account("EUR")
    return factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)


@pytest.fixture
def teller_key(app: Flask, teller: User) -> dict[str, str]:
    return bearer(api_keys.create_for_staff(teller, "Till", TELLER_SCOPES, actor=None).raw)


@pytest.fixture
def approver_key(app: Flask, approver: User) -> dict[str, str]:
    return bearer(api_keys.create_for_staff(approver, "Desk", APPROVER_SCOPES, actor=None).raw)


def _held(account: Account) -> tuple[int, int]:
    db.session.rollback()
    fresh = db.session.get(Account, account.id, populate_existing=True)
    assert fresh is not None
    return fresh.balance_minor, fresh.held_minor


def _approve(client: WebClient, key: dict, request_id: int) -> dict:
    approved = client.post(f"/api/v1/change-requests/{request_id}/approve", json={}, headers=key)
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved"
    return approved.json


def test_a_customer_sees_holds_and_the_available_balance(
    client: WebClient, customer_user: User, other_customer_user: User, account: Account,
    admin: User,
) -> None:  # fmt: skip
    hold_id = holds.place(
        account.id, 2_500, reason="Card", expires_at=utcnow() + timedelta(days=1), actor=admin
    )
    key = bearer(make_key(customer_user))
    got = client.get(f"/api/v1/accounts/{account.number}", headers=key)
    assert got.status_code == 200
    assert (got.json["balance_minor"], got.json["held_minor"], got.json["available_minor"]) == (
        10_000, 2_500, 7_500,
    )  # fmt: skip
    listed = client.get("/api/v1/accounts", headers=key).json["items"]
    assert listed[0]["available_minor"] == 7_500
    found = client.get(f"/api/v1/accounts/{account.number}/holds", headers=key)
    assert found.status_code == 200
    assert [(h["id"], h["status"], h["amount_minor"]) for h in found.json["items"]] == [
        (hold_id, "active", 2_500)
    ]
    other = bearer(make_key(other_customer_user))
    assert client.get(f"/api/v1/accounts/{account.number}/holds", headers=other).status_code == 404
    assert client.get("/api/v1/accounts/12345/holds", headers=key).status_code == 404


def test_a_teller_places_captures_and_releases_through_approval(
    client: WebClient, teller_key: dict, approver_key: dict, account: Account
) -> None:
    expires = (utcnow() + timedelta(days=2)).isoformat()
    body = {"amount_minor": 4_000, "reason": "Court order", "expires_at": expires}
    placed = client.post(f"/api/v1/accounts/{account.number}/holds", json=body, headers=teller_key)
    assert placed.status_code == 202, placed.json
    assert placed.json["action"] == "ledger.hold.place"
    assert placed.headers["Location"] == f"/api/v1/change-requests/{placed.json['id']}"
    hold_id = _approve(client, approver_key, placed.json["id"])["result"]["hold_id"]
    assert _held(account) == (10_000, 4_000)

    too_much = client.post(
        f"/api/v1/holds/{hold_id}/capture", json={"amount_minor": 4_001}, headers=teller_key
    )
    assert too_much.status_code == 422
    capture = client.post(
        f"/api/v1/holds/{hold_id}/capture", json={"amount_minor": 1_000}, headers=teller_key
    )
    assert capture.status_code == 202, capture.json
    result = _approve(client, approver_key, capture.json["id"])["result"]
    assert (result["captured_minor"], result["transaction_id"] > 0) == (1_000, True)
    assert _held(account) == (9_000, 0)

    again = client.post(f"/api/v1/accounts/{account.number}/holds", json=body, headers=teller_key)
    second = _approve(client, approver_key, again.json["id"])["result"]["hold_id"]
    release = client.post(f"/api/v1/holds/{second}/release", json={}, headers=teller_key)
    assert release.status_code == 202
    _approve(client, approver_key, release.json["id"])
    listed = client.get(f"/api/v1/accounts/{account.number}/holds", headers=teller_key).json
    assert sorted(h["status"] for h in listed["items"]) == ["captured", "released"]
    done = client.post(f"/api/v1/holds/{second}/release", json={}, headers=teller_key)
    assert done.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": 0, "reason": "x", "expires_at": "2099-01-01T00:00:00+00:00"},
        {"amount_minor": "12", "reason": "x", "expires_at": "2099-01-01T00:00:00+00:00"},
        {"amount_minor": 1, "reason": "", "expires_at": "2099-01-01T00:00:00+00:00"},
        {"amount_minor": 1, "reason": "x", "expires_at": "2000-01-01T00:00:00+00:00"},
        {"amount_minor": 1, "reason": "x", "expires_at": "not a date at all"},
        {"amount_minor": 1, "reason": "x"},
        {"amount_minor": 1, "reason": "x", "expires_at": "2099-01-01T00:00:00+00:00", "x": 1},
    ],
)
def test_bad_hold_requests_are_422(
    client: WebClient, teller_key: dict, account: Account, body: dict
) -> None:
    got = client.post(f"/api/v1/accounts/{account.number}/holds", json=body, headers=teller_key)
    assert got.status_code == 422, got.json


def test_refusals(
    client: WebClient, teller_key: dict, approver_key: dict, account: Account, customer_user: User
) -> None:
    assert (
        client.post("/api/v1/holds/999999/release", json={}, headers=teller_key).status_code == 404
    )
    assert client.post("/api/v1/holds/0/capture", json={}, headers=teller_key).status_code == 404
    body = {"amount_minor": 1, "reason": "x", "expires_at": "2099-01-01T00:00:00+00:00"}
    url = f"/api/v1/accounts/{account.number}/holds"
    assert client.post(url, json=body, headers=approver_key).status_code == 403
    customer = bearer(make_key(customer_user))
    assert client.post(url, json=body, headers=customer).status_code == 403
    assert client.post("/api/v1/accounts/0000000000/holds", json=body,
                       headers=teller_key).status_code == 404  # fmt: skip
