"""``POST /api/v1/fx/quotes`` and ``POST /api/v1/conversions``: a quote between the
customer's own accounts, converted once (201 with the entry; 202 with the change request
when the bank's policy asks for approval), Idempotency-Key honoured."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.api.conftest import bearer, make_key
from tests.helpers import balance, count_rows
from tests.services.fx.support import load_rates, two_accounts
from tests.webclient import WebClient
from vaulta.models import Account, Transaction, User
from vaulta.models.user import STAFF_APPROVER
from vaulta.services.changes import policies
from vaulta.services.unit_of_work import write_transaction


@pytest.fixture
def accounts(customer_user: User) -> tuple[Account, Account]:
    load_rates()
    return two_accounts(customer_user)


def _quote(api: WebClient, source: Account, target: Account, amount: int = 10_000) -> dict:
    body = {"from_account": source.number, "to_account": target.number, "amount_minor": amount}
    response = api.post("/api/v1/fx/quotes", json=body)
    assert response.status_code == 201, response.json
    return response.json


def _convert(api: WebClient, quote_id: str, key: str = "convert-1") -> object:
    return api.post(
        "/api/v1/conversions", json={"quote_id": quote_id}, headers={"Idempotency-Key": key}
    )


def test_quote_then_convert(api: WebClient, accounts: tuple[Account, Account]) -> None:
    eur, usd = accounts
    quote = _quote(api, eur, usd)
    assert quote["id"].startswith("fxq_")
    assert (quote["from_amount_minor"], quote["to_amount_minor"]) == (10_000, 10_795)
    assert (quote["rate"], quote["market_rate"], quote["spread_bps"]) == ("1.079575", "1.0850", 50)
    assert quote["used"] is False
    assert quote["expires_at"] > quote["created_at"]
    response = _convert(api, quote["id"])
    assert response.status_code == 201, response.json
    entry = response.json
    assert (entry["from_amount_minor"], entry["to_amount_minor"]) == (10_000, 10_795)
    assert entry["rate"] == "1.079575"
    assert [p["amount_minor"] for p in entry["postings"]] == [-10_000, 10_000, -10_795, 10_795]
    assert response.headers["Location"].endswith(f"/api/v1/accounts/{usd.number}")
    assert balance(usd, fresh=True) == 10_795
    # The same key and body replay the first response; the quote is not used twice.
    again = _convert(api, quote["id"])
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == entry
    assert count_rows(Transaction, Transaction.kind == "conversion", fresh=True) == 1
    reused = _convert(api, quote["id"], key="convert-2")
    assert reused.status_code == 409
    assert "already used" in reused.json["error"]["message"]


def test_policy_asking_for_approval_answers_202(
    api: WebClient, accounts: tuple[Account, Account]
) -> None:
    with write_transaction() as s:
        policies.install_version(
            s,
            "conversions",
            {"levels": 1, "roles_per_level": [[STAFF_APPROVER]]},
            created_by_id=None,
        )
    eur, usd = accounts
    response = _convert(api, _quote(api, eur, usd)["id"])
    assert response.status_code == 202, response.json
    assert response.json["status"] == "pending"
    assert response.json["action"] == "ledger.conversion"
    assert balance(eur, fresh=True) == 100_000


def test_bad_input_and_other_customers(
    app: Flask,
    api: WebClient,
    accounts: tuple[Account, Account],
    other_customer_user: User,
) -> None:
    eur, usd = accounts
    other_eur, other_usd = two_accounts(other_customer_user)
    quote = api.post(
        "/api/v1/fx/quotes",
        json={"from_account": eur.number, "to_account": other_usd.number, "amount_minor": 100},
    )
    assert quote.status_code == 404
    for body, field in (
        ({"from_account": eur.number, "to_account": usd.number, "amount_minor": 0}, "amount_minor"),
        ({"from_account": eur.number, "to_account": usd.number, "amount_minor": "1"}, None),
        ({"from_account": eur.number, "to_account": usd.number}, None),
        ({"from_account": eur.number, "to_account": eur.number, "amount_minor": 5}, "to_account"),
    ):
        response = api.post("/api/v1/fx/quotes", json=body)
        assert response.status_code == 422, body
        if field:
            assert response.json["error"]["details"][0]["field"] == field
    assert _convert(api, "fxq_unknownunknown").status_code == 404
    assert _convert(api, "not-a-quote").status_code == 422
    other_api_key = make_key(other_customer_user)
    # 1 cent converts to 1 cent (1.0795...), rounded down: the other customer's own quote.
    theirs = api.post(
        "/api/v1/fx/quotes",
        json={"from_account": other_eur.number, "to_account": other_usd.number, "amount_minor": 1},
        headers=bearer(other_api_key),
    )
    assert theirs.status_code == 201
    assert theirs.json["to_amount_minor"] == 1
    mine = _quote(api, eur, usd, 100)
    stolen = api.post(
        "/api/v1/conversions",
        json={"quote_id": mine["id"]},
        headers=bearer(other_api_key, **{"Idempotency-Key": "x"}),
    )
    assert stolen.status_code == 404


def test_a_read_only_key_may_not_convert(
    client: WebClient, customer_user: User, accounts: tuple[Account, Account]
) -> None:
    eur, usd = accounts
    read_only = make_key(customer_user, ("read",))
    response = client.post(
        "/api/v1/fx/quotes",
        json={"from_account": eur.number, "to_account": usd.number, "amount_minor": 100},
        headers=bearer(read_only),
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "insufficient_scope"
