"""Staff keys on /api/v1: a teller's deposit or withdrawal is a change request (202) that an
approver's key lists, approves (a one-time code at a step-up level) or rejects; the money
moves only then. 403 without the permission, 409 for a decided or own request, 422 for
invalid input, 404 for an unknown one."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import factories
from tests.api.conftest import make_key, payment_body
from tests.helpers import balance, count_rows, mailed_code
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, ApiIdempotencyKey, ChangeRequest, Payment, User
from vaulta.services.identity import api_keys

TELLER_SCOPES = ["ledger.deposit.request", "ledger.withdrawal.request", "read"]
APPROVER_SCOPES = ["requests.decide", "read"]


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def account(customer_user: User) -> Account:
    return factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)


@pytest.fixture
def teller_key(app: Flask, teller: User) -> dict[str, str]:
    return bearer(api_keys.create_for_staff(teller, "Till", TELLER_SCOPES, actor=None).raw)


@pytest.fixture
def approver_key(app: Flask, approver: User) -> dict[str, str]:
    return bearer(api_keys.create_for_staff(approver, "Desk", APPROVER_SCOPES, actor=None).raw)


def _deposit(client: WebClient, key: dict, account: Account, amount: int, idem: str = "k1"):  # type: ignore[no-untyped-def]
    body = {"amount_minor": amount, "currency": "EUR", "description": "Counter"}
    return client.post(
        f"/api/v1/accounts/{account.number}/deposits",
        json=body,
        headers={**key, "Idempotency-Key": idem},
    )


def test_a_deposit_waits_202_then_an_approver_approves_it(
    client: WebClient, teller_key: dict, approver_key: dict, account: Account, teller: User
) -> None:
    response = _deposit(client, teller_key, account, 2_500)
    assert response.status_code == 202, response.json
    body = response.json
    assert body["status"] == "pending"
    assert body["action"] == "ledger.deposit"
    assert (body["amount_minor"], body["currency"]) == (2_500, "EUR")
    assert body["maker"] == teller.email
    assert body["before"] == {"account": account.number, "balance_minor": 10_000}
    assert body["after"] == {"account": account.number, "balance_minor": 12_500}
    assert response.headers["Location"] == f"/api/v1/change-requests/{body['id']}"
    assert balance(account) == 10_000
    # Replayed as first answered; the same key with another body is refused.
    again = _deposit(client, teller_key, account, 2_500)
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == body
    assert _deposit(client, teller_key, account, 2_600).status_code == 409
    assert count_rows(ChangeRequest) == 1
    assert count_rows(ApiIdempotencyKey) == 1
    # The maker can read it but not decide it.
    assert client.get(response.headers["Location"], headers=teller_key).status_code == 200
    own = client.post(f"/api/v1/change-requests/{body['id']}/approve", json={}, headers=teller_key)
    assert own.status_code == 403  # a teller's key holds no requests.decide

    listed = client.get("/api/v1/change-requests?status=pending", headers=approver_key)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json["items"]] == [body["id"]]
    approved = client.post(
        f"/api/v1/change-requests/{body['id']}/approve", json={}, headers=approver_key
    )
    assert approved.status_code == 200
    assert approved.json["status"] == "approved"
    assert approved.json["decisions"][0]["decision"] == "approve"
    assert approved.json["result"]["transaction_id"] > 0
    assert balance(account) == 12_500
    decided = client.post(
        f"/api/v1/change-requests/{body['id']}/reject", json={"reason": "x"}, headers=approver_key
    )
    assert decided.status_code == 409


def test_the_makers_own_request_is_a_conflict(
    client: WebClient, app: Flask, account: Account
) -> None:
    both = factories.make_staff("both@example.test", "teller", "approver")
    key = bearer(
        api_keys.create_for_staff(both, "Both", [*TELLER_SCOPES, *APPROVER_SCOPES], actor=None).raw
    )
    made = _deposit(client, key, account, 300).json
    response = client.post(f"/api/v1/change-requests/{made['id']}/approve", json={}, headers=key)
    assert response.status_code == 409
    assert "Four eyes" in response.json["error"]["message"]


def test_reject_with_a_reason(
    client: WebClient, teller_key: dict, approver_key: dict, account: Account
) -> None:
    made = _deposit(client, teller_key, account, 400).json
    url = f"/api/v1/change-requests/{made['id']}/reject"
    missing = client.post(url, json={}, headers=approver_key)
    assert missing.status_code == 422
    assert missing.json["error"]["details"][0]["field"] == "reason"
    response = client.post(url, json={"reason": "No cash"}, headers=approver_key)
    assert response.status_code == 200
    assert response.json["status"] == "rejected"
    assert response.json["decisions"][0]["reason"] == "No cash"
    assert balance(account) == 10_000


def test_second_level_needs_a_mailed_code(
    client: WebClient,
    teller_key: dict,
    approver_key: dict,
    second_approver: User,
    account: Account,
) -> None:
    made = _deposit(client, teller_key, account, 1_000_000).json
    assert made["levels_required"] == 2
    url = f"/api/v1/change-requests/{made['id']}/approve"
    first = client.post(url, json={}, headers=approver_key)
    assert first.json["levels_approved"] == 1
    assert first.json["next_level_needs_step_up"] is True
    second_key = bearer(
        api_keys.create_for_staff(second_approver, "Desk 2", APPROVER_SCOPES, actor=None).raw
    )
    asked = client.post(url, json={}, headers=second_key)
    assert asked.status_code == 403
    assert asked.json["error"]["code"] == "step_up_required"
    code = mailed_code(second_approver.email)
    wrong = "000000" if code != "000000" else "111111"
    assert client.post(url, json={"step_up_code": wrong}, headers=second_key).status_code == 422
    done = client.post(url, json={"step_up_code": code}, headers=second_key)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "approved"
    assert [d["step_up_used"] for d in done.json["decisions"]] == [False, True]
    assert balance(account) == 1_010_000


def test_refusals(
    client: WebClient,
    teller_key: dict,
    approver_key: dict,
    account: Account,
    customer_user: User,
) -> None:
    body = {"amount_minor": 100, "currency": "EUR", "description": "x"}
    url = f"/api/v1/accounts/{account.number}/withdrawals"
    # The approver cannot make requests, nor a customer's key.
    no = client.post(url, json=body, headers={**approver_key, "Idempotency-Key": "a"})
    assert no.status_code == 403
    customer = bearer(make_key(customer_user))
    assert client.get("/api/v1/change-requests", headers=customer).status_code == 403
    assert client.get("/api/v1/change-requests/1", headers=customer).status_code == 403
    # Invalid input is 422 and stores nothing.
    wrong = {**body, "currency": "USD"}
    bad = client.post(url, json=wrong, headers={**teller_key, "Idempotency-Key": "b"})
    assert bad.status_code == 422
    assert bad.json["error"]["details"][0]["field"] == "currency"
    too_much = {**body, "amount_minor": 20_000}
    poor = client.post(url, json=too_much, headers={**teller_key, "Idempotency-Key": "c"})
    assert poor.status_code == 409
    assert poor.json["error"]["code"] == "insufficient_funds"
    assert count_rows(ChangeRequest) == 0
    # Unknown account and request: 404.
    gone = client.post(
        "/api/v1/accounts/9999999999/deposits",
        json=body,
        headers={**teller_key, "Idempotency-Key": "d"},
    )
    assert gone.status_code == 404
    assert client.get("/api/v1/change-requests/999999", headers=approver_key).status_code == 404
    # A second pending request for the same thing is refused, naming the first.
    first = client.post(url, json=body, headers={**teller_key, "Idempotency-Key": "e"})
    assert first.status_code == 202
    second = client.post(url, json=body, headers={**teller_key, "Idempotency-Key": "f"})
    assert second.status_code == 409
    assert second.json["error"]["code"] == "duplicate_request"
    assert f"#{first.json['id']}" in second.json["error"]["message"]


def test_who_sees_a_request(
    client: WebClient,
    teller_key: dict,
    account: Account,
    admin: User,
    auditor: User,
) -> None:
    made = _deposit(client, teller_key, account, 500).json
    url = f"/api/v1/change-requests/{made['id']}"
    admin_key = bearer(api_keys.create_for_staff(admin, "Ops", ["read"], actor=None).raw)
    assert client.get(url, headers=admin_key).status_code == 403  # neither maker nor reader
    auditor_key = bearer(api_keys.create_for_staff(auditor, "Audit", ["read"], actor=None).raw)
    seen = client.get(url, headers=auditor_key)
    assert seen.status_code == 200
    assert seen.json["before"]["balance_minor"] == 10_000
    assert client.get("/api/v1/change-requests", headers=auditor_key).status_code == 403


def test_a_payment_by_api_follows_the_same_levels(
    client: WebClient,
    customer_user: User,
    approver: User,
    second_approver: User,
    approver_key: dict,
    target: Account,
) -> None:
    """A customer's 12,000.00 API payment is a change request needing two approvers: the
    same approver twice is 409, the second needs a code (403 step_up_required), then it
    executes once."""
    rich = factories.make_account(factories.customer_of(customer_user), "EUR", 5_000_000)
    made = client.post(
        "/api/v1/payments",
        json=payment_body(rich, target, amount_minor=1_200_000),
        headers=bearer(make_key(customer_user)) | {"Idempotency-Key": "pay-1"},
    )
    assert made.status_code == 201, made.json
    payment = db.session.get(Payment, made.json["id"])
    assert payment is not None
    url = f"/api/v1/change-requests/{payment.change_request_id}/approve"
    first = client.post(url, json={}, headers=approver_key)
    assert first.status_code == 200, first.json
    assert (first.json["status"], first.json["levels_approved"]) == ("pending", 1)
    assert client.post(url, json={}, headers=approver_key).status_code == 409
    second_key = bearer(
        api_keys.create_for_staff(second_approver, "Desk 2", APPROVER_SCOPES, actor=None).raw
    )
    asked = client.post(url, json={}, headers=second_key)
    assert asked.status_code == 403
    assert asked.json["error"]["code"] == "step_up_required"
    code = mailed_code(second_approver.email, f"VAULTA approval code for payment #{payment.id}")
    done = client.post(url, json={"step_up_code": code}, headers=second_key)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "approved"
    db.session.rollback()
    assert db.session.get(Payment, payment.id).status == "executed"  # type: ignore[union-attr]
    assert balance(rich) == 5_000_000 - 1_200_000
