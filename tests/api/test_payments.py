"""POST /api/v1/payments (idempotent), GET /payments/{id}, GET /payments?status= (paged)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import factories
from tests.api.conftest import end_read_transaction, make_key, payment_body
from tests.helpers import count_rows
from tests.services.payments.factories import make_payment
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, ApiIdempotencyKey, AuditEvent, Payment, User
from vaulta.services.banking import customers
from vaulta.services.payments import approvals


def _create(api: WebClient, body: dict, key: str = "key-1", **headers: str):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/payments", json=body, headers={"Idempotency-Key": key, **headers})


def _payments() -> list[Payment]:
    end_read_transaction()
    return list(db.session.scalars(sa.select(Payment).order_by(Payment.id)))


def test_pays_a_vaulta_account_awaiting_approval(
    api: WebClient, source: Account, target: Account
) -> None:
    response = _create(api, payment_body(source, target))
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"/api/v1/payments/{body['id']}"
    assert "Idempotent-Replayed" not in response.headers
    assert body["status"] == "pending_approval"
    assert (body["amount_minor"], body["currency"]) == (1250, "EUR")
    assert (body["from_account"], body["to_account"]) == (source.number, target.number)
    assert body["beneficiary"] is None
    assert body["confirmed_at"] is not None
    [payment] = _payments()
    assert payment.status == "pending_approval"
    assert payment.amount_minor == 1250
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.object_type == "payment", AuditEvent.object_id == str(payment.id)
        )
    )
    assert event.action == "payment.request_api"
    assert event.details["amount_minor"] == 1250


def test_pays_an_external_iban(api: WebClient, source: Account) -> None:
    response = _create(api, payment_body(source))
    assert response.status_code == 201
    assert response.json["to_account"] is None
    assert response.json["beneficiary"] == {
        "name": "Acme Ltd",
        "iban": "GB82WEST12345698765432",
        "bic": None,
    }


def test_an_external_payment_takes_and_returns_the_bic(api: WebClient, source: Account) -> None:
    beneficiary = {"name": "Acme Ltd", "iban": "GB82WEST12345698765432", "bic": "NWBKGB2L"}
    response = _create(api, payment_body(source, beneficiary=beneficiary))
    assert response.status_code == 201, response.json
    assert response.json["beneficiary"]["bic"] == "NWBKGB2L"
    assert api.get(response.headers["Location"]).json["beneficiary"] == beneficiary
    [payment] = _payments()
    assert payment.beneficiary_bic == "NWBKGB2L"


@pytest.mark.parametrize(
    ("bic", "message"),
    [
        ("NWBKGB", "^[A-Z0-9]{8}"),  # out of shape: the model's pattern
        ("NWBKZZ2L", "ZZ in this BIC is not a country code."),  # schwifty
    ],
)
def test_an_invalid_bic_is_a_422_on_its_field(
    api: WebClient, source: Account, bic: str, message: str
) -> None:
    beneficiary = {"name": "Acme Ltd", "iban": "GB82WEST12345698765432", "bic": bic}
    response = _create(api, payment_body(source, beneficiary=beneficiary))
    assert response.status_code == 422, response.json
    [detail] = response.json["error"]["details"]
    assert detail["field"] == "beneficiary.bic"
    assert message in detail["message"]
    assert _payments() == []


def test_an_approved_api_payment_moves_the_money(
    api: WebClient, source: Account, target: Account, approver: User
) -> None:
    created = _create(api, payment_body(source, target)).json
    approvals.approve(created["id"], actor=approver)
    fetched = api.get(f"/api/v1/payments/{created['id']}").json
    assert fetched["status"] == "executed"
    assert fetched["transaction_id"] is not None
    assert api.get(f"/api/v1/accounts/{source.number}").json["balance_minor"] == 100_000 - 1250


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_minor": 0}, "amount_minor"),
        ({"amount_minor": -5}, "amount_minor"),
        ({"amount_minor": 12.5}, "amount_minor"),
        ({"amount_minor": "1250"}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"amount_minor": 10**30}, "amount_minor"),
        ({"currency": "USD"}, "currency"),  # valid code, not the account's
        ({"currency": "eur"}, "currency"),
        ({"reference": ""}, "reference"),
        ({"reference": "   "}, "reference"),
        ({"reference": "Invoice \u202egnp.exe"}, "reference"),  # display spoofing
        (
            {"beneficiary": {"name": "Acme\u2067", "iban": "GB82WEST12345698765432"}},
            "beneficiary.name",
        ),
        ({"reference": "x" * 141}, "reference"),
        ({"from_account": "1234567890"}, "from_account"),  # not the customer's
        ({"from_account": 12}, "from_account"),
        ({"to_account": "0000000000"}, "to_account"),
        ({"beneficiary": {"name": "A", "iban": "GB00WEST12345698765432"}}, "beneficiary.iban"),
        ({"beneficiary": {"name": "A"}}, "beneficiary.iban"),
        ({"beneficiary": {"name": "A", "iban": "GB82WEST12345698765432", "x": 1}}, "beneficiary.x"),
        ({"to_account": None}, "to_account"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_requests_get_422_with_the_field(
    api: WebClient, source: Account, target: Account, changes: dict, field: str
) -> None:
    body = payment_body(source, None if "beneficiary" in changes else target, **changes)
    response = _create(api, body)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert field in [d["field"] for d in error["details"]]
    assert _payments() == []


def test_both_or_neither_beneficiary_is_refused(
    api: WebClient, source: Account, target: Account
) -> None:
    both = payment_body(source, target, beneficiary={"name": "A", "iban": "GB82WEST12345698765432"})
    neither = payment_body(source, target)
    del neither["to_account"]
    for body in (both, neither):
        assert _create(api, body).status_code == 422


def test_someone_elses_account_as_source_is_refused(
    api: WebClient, source: Account, target: Account
) -> None:
    response = _create(api, payment_body(target, source))
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["field"] == "from_account"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "idempotency_key_required"),
        ({"Idempotency-Key": ""}, "invalid_idempotency_key"),
        ({"Idempotency-Key": "x" * 65}, "invalid_idempotency_key"),
        ({"Idempotency-Key": "has space"}, "invalid_idempotency_key"),
    ],
)
def test_the_idempotency_key_header_is_required(
    api: WebClient, source: Account, target: Account, headers: dict, code: str
) -> None:
    response = api.post("/api/v1/payments", json=payment_body(source, target), headers=headers)
    assert response.status_code == 400
    assert response.json["error"]["code"] == code
    assert _payments() == []


def test_a_body_that_is_not_a_json_object_gets_400(api: WebClient) -> None:
    headers = {"Idempotency-Key": "k", "Content-Type": "application/json"}
    for data in ("{not json", "[1, 2]", "12", "null"):
        response = api.post("/api/v1/payments", data=data, headers=headers)
        assert response.status_code == 400, data
        assert response.json["error"]["code"] == "malformed_request"
    form = api.post("/api/v1/payments", data={"a": "b"}, headers={"Idempotency-Key": "k"})
    assert form.status_code == 400


def test_a_replay_returns_the_first_response_verbatim(
    api: WebClient, source: Account, target: Account, approver: User
) -> None:
    body = payment_body(source, target)
    first = _create(api, body, "retry-me")
    approvals.approve(first.json["id"], actor=approver)  # the payment moves on meanwhile
    reordered = dict(reversed(list(body.items())))  # same JSON, other key order
    again = _create(api, reordered, "retry-me")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert again.json["status"] == "pending_approval"  # as first answered, not as now
    assert again.headers["Location"] == first.headers["Location"]
    assert len(_payments()) == 1


def test_the_same_key_with_another_body_gets_409(
    api: WebClient, source: Account, target: Account
) -> None:
    assert _create(api, payment_body(source, target), "once").status_code == 201
    response = _create(api, payment_body(source, target, amount_minor=999), "once")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert len(_payments()) == 1


def test_refused_input_is_not_stored_so_a_corrected_retry_works(
    api: WebClient, source: Account, target: Account
) -> None:
    assert _create(api, payment_body(source, target, currency="USD"), "fix").status_code == 422
    end_read_transaction()
    assert count_rows(ApiIdempotencyKey) == 0
    assert _create(api, payment_body(source, target), "fix").status_code == 201


def test_keys_are_per_user(
    api: WebClient, client: WebClient, source: Account, target: Account, other_customer_user: User
) -> None:
    assert _create(api, payment_body(source, target), "shared").status_code == 201
    other_source = factories.make_account(factories.customer_of(other_customer_user), "EUR", 10_000)
    other_key = make_key(other_customer_user)
    response = client.post(
        "/api/v1/payments",
        json=payment_body(other_source, source),
        headers={"Authorization": f"Bearer {other_key}", "Idempotency-Key": "shared"},
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert len(_payments()) == 2


def test_get_one_payment(api: WebClient, customer_user: User, source: Account) -> None:
    web_payment = make_payment(customer_user, source, confirm=False)
    response = api.get(f"/api/v1/payments/{web_payment.id}")
    assert response.status_code == 200
    assert response.json["status"] == "awaiting_confirmation"
    assert response.json["beneficiary"]["iban"] == "GB82WEST12345698765432"


def test_list_filters_by_status_and_walks_pages_once(
    api: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    for n in range(5):
        assert _create(api, payment_body(source, target, reference=f"R{n}"), f"k{n}").status_code
    awaiting = make_payment(customer_user, source, confirm=False)
    seen: list[int] = []
    url = "/api/v1/payments?limit=2&status=pending_approval"
    while url:
        page = api.get(url).json
        seen += [p["id"] for p in page["items"]]
        assert all(p["status"] == "pending_approval" for p in page["items"])
        url = f"/api/v1/payments?limit=2&status=pending_approval&cursor={page['next_cursor']}"
        url = url if page["next_cursor"] else ""
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)
    everything = api.get("/api/v1/payments").json
    assert [p["id"] for p in everything["items"]] == [awaiting.id, *seen]
    assert everything["next_cursor"] is None


@pytest.mark.parametrize("query", ["status=paid", "status=", "limit=0", "cursor=dDox"])
def test_list_refuses_unknown_statuses_and_bad_paging(api: WebClient, query: str) -> None:
    response = api.get(f"/api/v1/payments?{query}")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"


def test_a_suspended_customer_cannot_pay_by_api(
    api: WebClient, customer_user: User, source: Account, target: Account, admin: User
) -> None:
    """The key itself is refused while the customer is suspended (403), reads included
    (tests/security/test_customer_status.py); the payment service refuses too
    (tests/services/payments/test_requests.py)."""
    customers.suspend_customer(customer_user.customer_id, actor=admin)
    response = _create(api, payment_body(source, target))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "customer_suspended"
    assert _payments() == []
    assert api.get("/api/v1/accounts").status_code == 403
