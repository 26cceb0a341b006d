"""``GET /api/v1/accounts/{number}/balance?as_of=…``: the balance by value date at an
instant, for the owning customer's key and staff keys with ``accounts.read`` (scope
``read``); another customer's account is 404; a missing or invalid ``as_of`` is 400."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from flask import Flask

from tests import factories
from tests.api.conftest import bearer, make_key
from tests.webclient import WebClient
from vaulta.models import Account, User
from vaulta.models.base import clock_set_to
from vaulta.services import ledger
from vaulta.services.identity import api_keys
from vaulta.services.ledger.balances import balance_as_of

DAY = date(2026, 11, 20)


def url(account: Account, as_of: str | None = "2026-11-19T00:00:00Z") -> str:
    query = "" if as_of is None else f"?as_of={as_of}"
    return f"/api/v1/accounts/{account.number}/balance{query}"


@pytest.fixture
def dated(app: Flask, customer_user: User, teller: User) -> Account:
    """The customer's account: 100.00 on the 20th at 09:00, then 5.00 dated the 17th booked
    on the 20th at 15:00."""
    account = factories.make_account(factories.customer_of(customer_user), "EUR")
    with clock_set_to(datetime.combine(DAY, time(9), tzinfo=UTC)):
        ledger.deposit(account, 100_00, actor=teller, description="Pay")
    with clock_set_to(datetime.combine(DAY, time(15), tzinfo=UTC)):
        ledger.deposit(
            account, 5_00, actor=teller, description="Late", value_date=date(2026, 11, 17)
        )
    return account


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-11-17T12:00:00Z", 0),
        ("2026-11-18T00:00:00Z", 5_00),
        ("2026-11-20T08:59:59Z", 5_00),
        ("2026-11-20T09:00:00Z", 105_00),
        ("2026-11-20T10:00:00%2B02:00", 5_00),  # 08:00 UTC
        ("2030-01-01T00:00:00Z", 105_00),
    ],
)
def test_the_owner_reads_the_balance_as_of_an_instant(
    client: WebClient, customer_user: User, dated: Account, as_of: str, expected: int
) -> None:
    response = client.get(url(dated, as_of), headers=bearer(make_key(customer_user, ("read",))))
    assert response.status_code == 200, response.json
    assert response.json["balance_minor"] == expected
    assert response.json["currency"] == "EUR"
    assert response.json["number"] == dated.number
    instant = datetime.fromisoformat(as_of.replace("%2B", "+"))
    assert response.json["balance_minor"] == balance_as_of(dated.id, instant)
    assert response.json["as_of"] == instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("as_of", "code"),
    [
        (None, "as_of_required"),
        ("", "as_of_required"),
        ("yesterday", "invalid_as_of"),
        ("2026-11-01", "invalid_as_of"),  # a day is not an instant
        ("2026-11-01T00:00:00", "invalid_as_of"),  # no zone
        ("2026-13-01T00:00:00Z", "invalid_as_of"),
    ],
)
def test_a_missing_or_invalid_as_of_is_400(
    client: WebClient, customer_user: User, dated: Account, as_of: str | None, code: str
) -> None:
    response = client.get(url(dated, as_of), headers=bearer(make_key(customer_user)))
    assert response.status_code == 400
    assert response.json["error"]["code"] == code
    assert "2026-11-01T00:00:00Z" in response.json["error"]["message"]


def test_another_customers_account_is_404(
    client: WebClient, customer_user: User, dated: Account
) -> None:
    stranger = factories.make_customer_login("stranger@example.test")
    theirs = make_key(stranger)
    assert client.get(url(dated), headers=bearer(theirs)).status_code == 404
    mine = bearer(make_key(customer_user))
    assert (
        client.get(
            "/api/v1/accounts/12345/balance?as_of=2026-11-19T00:00:00Z", headers=mine
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/accounts/9999999999/balance?as_of=2026-11-19T00:00:00Z", headers=mine
        ).status_code
        == 404
    )


def test_staff_read_any_account_with_a_read_key(
    client: WebClient, auditor: User, approver: User, dated: Account
) -> None:
    reader = api_keys.create_for_staff(auditor, "Books", ["read"], actor=None).raw
    response = client.get(url(dated, "2026-11-21T00:00:00Z"), headers=bearer(reader))
    assert response.status_code == 200, response.json
    assert response.json["balance_minor"] == 105_00
    # A staff key without the read scope: 403 naming the scope it needs.
    decider = api_keys.create_for_staff(approver, "Desk", ["requests.decide"], actor=None).raw
    refused = client.get(url(dated), headers=bearer(decider))
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "insufficient_scope"


def test_a_customer_key_without_read_is_403(
    client: WebClient, customer_user: User, dated: Account
) -> None:
    raw = make_key(customer_user, ("payments:write",))
    response = client.get(url(dated), headers=bearer(raw))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "insufficient_scope"


def test_the_operation_is_in_the_document(client: WebClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/accounts/{number}/balance"]["get"]
    assert operation["security"] == [{"bearerAuth": ["read"]}]
    names = {p["name"] for p in operation["parameters"]}
    assert {"number", "as_of"} <= names
    assert {"200", "400", "404"} <= set(operation["responses"])
