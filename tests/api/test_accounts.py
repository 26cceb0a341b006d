"""GET /api/v1/accounts, /accounts/{number} and the keyset-paged transactions."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests import factories
from tests.webclient import WebClient
from vaulta.models import Account, User
from vaulta.services import ledger


def test_lists_the_customers_accounts_with_integer_amounts(
    api: WebClient, customer_user: User, source: Account
) -> None:
    usd = factories.make_account(factories.customer_of(customer_user), "USD", 250)
    factories.make_account(factories.make_customer(), "EUR", 999)  # someone else's
    response = api.get("/api/v1/accounts")
    assert response.status_code == 200
    items = response.json["items"]
    assert [a["number"] for a in items] == [source.number, usd.number]
    first = items[0]
    assert first["balance_minor"] == 100_000
    assert isinstance(first["balance_minor"], int)
    assert first["currency"] == "EUR"
    assert first["status"] == "active"
    assert first["opened_at"].endswith("Z")
    datetime.fromisoformat(first["opened_at"])
    assert first["closed_at"] is None


def test_one_account(api: WebClient, source: Account) -> None:
    response = api.get(f"/api/v1/accounts/{source.number}")
    assert response.status_code == 200
    assert response.json["number"] == source.number
    assert response.json["balance_minor"] == 100_000


def _post_history(source: Account, target: Account, admin: User) -> None:
    for n in range(1, 8):
        ledger.deposit(source, n * 100, actor=admin, description=f"Deposit {n}", reference=f"D{n}")
        if n % 3 == 0:
            ledger.transfer(source, target, 50, actor=admin, description=f"Transfer {n}")
    ledger.withdraw(source, 75, actor=admin, description="Cash")


@pytest.mark.parametrize("limit", [1, 3, 200])
def test_pagination_walks_every_transaction_exactly_once(
    api: WebClient, admin: User, source: Account, target: Account, limit: int
) -> None:
    _post_history(source, target, admin)
    seen: list[dict] = []
    url = f"/api/v1/accounts/{source.number}/transactions?limit={limit}"
    while url:
        page = api.get(url).json
        assert len(page["items"]) <= limit
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        url = f"/api/v1/accounts/{source.number}/transactions?limit={limit}&cursor={cursor}"
        url = url if cursor else ""
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)) == 1 + 7 + 2 + 1  # funding, deposits, transfers, withdrawal
    assert ids == sorted(ids, reverse=True)  # newest first
    # Signed amounts and running balances agree with the account's balance.
    balance = api.get(f"/api/v1/accounts/{source.number}").json["balance_minor"]
    for item in seen:
        assert item["balance_after_minor"] == balance
        assert isinstance(item["amount_minor"], int)
        balance -= item["amount_minor"]
    assert balance == 0
    kinds = {item["kind"]: item["amount_minor"] for item in seen}
    assert kinds["withdrawal"] == -75
    assert kinds["transfer"] == -50
    cash = next(item for item in seen if item["kind"] == "withdrawal")
    assert set(cash) == {
        "id",
        "created_at",
        "kind",
        "description",
        "reference",
        "amount_minor",
        "currency",
        "balance_after_minor",
        "counterparty_account",
        "value_date",
    }
    assert cash["currency"] == "EUR"
    assert cash["description"] == "Cash"
    assert cash["created_at"].endswith("Z")
    assert cash["value_date"] == cash["created_at"][:10]  # dated the day it was booked


def test_default_limit_and_last_page(api: WebClient, source: Account) -> None:
    page = api.get(f"/api/v1/accounts/{source.number}/transactions").json
    assert len(page["items"]) == 1
    assert page["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("cursor=nonsense", "cursor"),
        ("cursor=", "cursor"),
        ("cursor=cDox", "cursor"),  # a payments cursor ("p:1")
        ("=false", ""),  # an unknown (here: nameless) parameter is refused, not ignored
        ("page=2", "page"),
    ],
)
def test_bad_paging_parameters_get_422(
    api: WebClient, source: Account, query: str, field: str
) -> None:
    response = api.get(f"/api/v1/accounts/{source.number}/transactions?{query}")
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert [d["field"] for d in error["details"]] == [field]
