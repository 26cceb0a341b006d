"""Every amount field of the web app reads the one amount grammar (vaulta/money.py): a
decimal comma, digits of other scripts and loose separators are refused on the field,
with the message that says how to write an amount; grouped amounts are read exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.helpers import count_rows
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, Payment, Transaction, User, utcnow
from vaulta.services.ledger import holds

REFUSED = ["12,50", "1,00", "1,2345", "\u0661\u0660\u0660", "\uff11\uff10\uff10", "1 000", "+5"]


def _payment(client: WebClient, account: Account, amount: str) -> Any:
    return client.post_form(
        "/payments/new",
        {
            "from_account": account.number,
            "beneficiary_name": "Acme",
            "beneficiary_iban": "GB82WEST12345698765432",
            "amount": amount,
            "reference": "Rent",
            "idempotency_key": "11111111-2222-3333-4444-555555555555",
        },
    )


def _live_check(client: WebClient, account: Account, amount: str) -> Any:
    return client.htmx(
        "POST",
        "/payments/validate/amount",
        data={"from_account": account.number, "amount": amount},
    )


def _deposit(client: WebClient, account: Account, amount: str) -> Any:
    return client.htmx(
        "POST",
        f"/admin/accounts/{account.id}/deposit",
        data={
            "deposit-amount": amount,
            "deposit-description": "Cash",
            "deposit-idempotency_key": "0" * 32,
        },
    )


def _hold(client: WebClient, account: Account, amount: str) -> Any:
    return client.htmx(
        "POST",
        f"/admin/accounts/{account.id}/holds",
        data={"hold-amount": amount, "hold-reason": "Card", "hold-expires_at": "2099-01-01T00:00"},
    )


def _hold_capture(client: WebClient, account: Account, amount: str) -> Any:
    hold_id = holds.place(
        account.id, 100, reason="Card", expires_at=utcnow() + timedelta(days=1), actor=None
    )
    return client.htmx(
        "POST",
        f"/admin/accounts/{account.id}/holds/{hold_id}/capture",
        data={"capture-amount": amount},
    )


def _transaction_search(client: WebClient, account: Account, amount: str) -> Any:
    return client.get(
        "/admin/transactions/", query_string={"currency": "EUR", "min_amount": amount}
    )


def _approval_queue(client: WebClient, account: Account, amount: str) -> Any:
    return client.get("/admin/approvals/", query_string={"max_amount": amount})


FIELDS: dict[str, tuple[Callable[[WebClient, Account, str], Any], str, int]] = {
    "payment form": (_payment, "customer", 422),
    "payment live check": (_live_check, "customer", 200),
    "deposit form": (_deposit, "teller", 422),
    "hold form": (_hold, "teller", 422),
    "hold capture form": (_hold_capture, "teller", 422),
    "transaction search": (_transaction_search, "teller", 422),
    "approval queue filter": (_approval_queue, "teller", 422),
}


def _signed_in(client: WebClient, role: str, customer: User, teller: User) -> WebClient:
    client.sign_in(customer if role == "customer" else teller)
    return client


@pytest.mark.parametrize("typed", REFUSED)
@pytest.mark.parametrize("where", list(FIELDS))
def test_every_amount_field_refuses_what_the_grammar_refuses(
    client: WebClient, customer_user: User, teller: User, where: str, typed: str
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    before = count_rows(Transaction)
    submit, role, status = FIELDS[where]
    response = submit(_signed_in(client, role, customer_user, teller), account, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert "Write amounts like 1234.56 or 1,234.56: digits, an optional decimal point" in html
    assert count_rows(Payment) == 0
    assert count_rows(Transaction) == before


def test_a_grouped_amount_is_read_exactly_in_a_payment_and_a_deposit(
    client: WebClient, customer_user: User, teller: User
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR", 200_000)
    assert _payment(_signed_in(client, "customer", customer_user, teller), account, "1,234.5")
    payment = db.session.scalars(sa.select(Payment)).one()
    assert payment.amount_minor == 123_450
    response = _deposit(_signed_in(client, "admin", customer_user, teller), account, "1,234,567")
    assert response.status_code == 200
    assert "1,234,567.00 EUR" in response.get_data(as_text=True)
