"""Conversions: one entry of four postings through the FX position accounts, its rate
stored beside it, a quote used exactly once, executed at once under the seeded policy or
after approval when the bank asks for it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.helpers import balance, count_rows
from tests.services.fx.support import load_rates, two_accounts
from vaulta.extensions import db
from vaulta.models import (
    Account,
    AuditEvent,
    FxConversion,
    FxQuote,
    OutboxEvent,
    Posting,
    Transaction,
    User,
)
from vaulta.models.account import KIND_FX_POSITION
from vaulta.models.base import clock_set_to
from vaulta.models.user import STAFF_APPROVER
from vaulta.services.changes import change_requests, policies
from vaulta.services.errors import Conflict, InsufficientFunds, NotFound
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.ledger.fx import quotes
from vaulta.services.unit_of_work import write_transaction


def _quote(user: User, source: Account, target: Account, amount: int = 10_000) -> FxQuote:
    return quotes.request_quote(
        user, from_account_id=source.id, to_account_id=target.id, amount_minor=amount
    )


def _position(currency: str) -> Account:
    found = db.session.scalar(
        sa.select(Account).where(Account.kind == KIND_FX_POSITION, Account.currency == currency)
    )
    assert found is not None
    return found


def test_a_conversion_is_one_entry_of_four_postings(app: Flask, customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    quote = _quote(customer_user, eur, usd)
    made = change_requests.submit("ledger.conversion", {"quote_id": quote.id}, actor=customer_user)
    assert (made.status, made.levels_required) == ("approved", 0)
    tx_id = made.result["transaction_id"]
    tx = db.session.get(Transaction, tx_id)
    assert tx is not None
    assert (tx.kind, tx.amount_minor, tx.currency) == ("conversion", 10_000, "EUR")
    assert (tx.debit_account_id, tx.credit_account_id) == (eur.id, usd.id)
    assert balance(eur, fresh=True) == 90_000
    assert balance(usd) == 10_795
    eur_position, usd_position = _position("EUR"), _position("USD")
    assert (eur_position.balance_minor, usd_position.balance_minor) == (10_000, -10_795)
    legs = db.session.execute(
        sa.select(Posting.account_id, Posting.amount_minor, Posting.currency)
        .where(Posting.transaction_id == tx_id)
        .order_by(Posting.id)
    ).all()
    assert [tuple(leg) for leg in legs] == [
        (eur.id, -10_000, "EUR"),
        (eur_position.id, 10_000, "EUR"),
        (usd_position.id, -10_795, "USD"),
        (usd.id, 10_795, "USD"),
    ]
    fx = db.session.get(FxConversion, tx_id)
    assert fx is not None
    assert (fx.quote_id, fx.from_amount_minor, fx.to_amount_minor) == (quote.id, 10_000, 10_795)
    assert (str(fx.rate), str(fx.market_rate), fx.spread_bps, fx.inverted) == (
        "1.079575",
        "1.0850",
        50,
        False,
    )
    assert db.session.get(FxQuote, quote.id, populate_existing=True).used_at is not None
    payloads = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == "conversion.executed")
    ).all()
    assert len(payloads) == 1
    assert payloads[0]["transaction_id"] == tx_id
    assert payloads[0]["to_amount_minor"] == 10_795
    assert payloads[0]["rate"] == "1.079575"
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_id == str(tx_id))
    ).all()
    assert {"transaction.conversion", "fx.conversion"} <= set(actions)
    assert verify_ledger() == []


def test_a_quote_converts_once(app: Flask, customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    quote = _quote(customer_user, eur, usd)
    change_requests.submit("ledger.conversion", {"quote_id": quote.id}, actor=customer_user)
    with pytest.raises(Conflict, match="already used"):
        change_requests.submit("ledger.conversion", {"quote_id": quote.id}, actor=customer_user)
    assert count_rows(Transaction, Transaction.kind == "conversion") == 1
    assert balance(eur, fresh=True) == 90_000


def test_an_expired_quote_does_not_convert(app: Flask, customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    quote = _quote(customer_user, eur, usd)
    with (
        clock_set_to(quote.expires_at + timedelta(seconds=1)),
        pytest.raises(Conflict, match="expired"),
    ):
        change_requests.submit("ledger.conversion", {"quote_id": quote.id}, actor=customer_user)
    assert count_rows(Transaction, Transaction.kind == "conversion") == 0


def test_another_customers_quote_and_missing_funds(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user, eur_minor=20_000)
    quote = _quote(customer_user, eur, usd, 15_000)
    with pytest.raises(NotFound):
        change_requests.submit(
            "ledger.conversion", {"quote_id": quote.id}, actor=other_customer_user
        )
    with pytest.raises(NotFound):
        change_requests.submit("ledger.conversion", {"quote_id": 7}, actor=customer_user)
    second = _quote(customer_user, eur, usd, 15_000)
    change_requests.submit("ledger.conversion", {"quote_id": quote.id}, actor=customer_user)
    with pytest.raises(InsufficientFunds):  # the balance is 50.00 EUR now
        change_requests.submit("ledger.conversion", {"quote_id": second.id}, actor=customer_user)
    assert db.session.get(FxQuote, second.id, populate_existing=True).used_at is None


def test_the_bank_can_require_approval(app: Flask, customer_user: User, approver: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    with write_transaction() as s:
        policies.install_version(
            s,
            "conversions",
            {"levels": 1, "roles_per_level": [[STAFF_APPROVER]]},
            created_by_id=None,
        )
    quote = _quote(customer_user, eur, usd)
    made = change_requests.submit("ledger.conversion", {"quote_id": quote.id}, actor=customer_user)
    assert made.status == "pending"
    assert balance(eur, fresh=True) == 100_000
    assert db.session.get(FxQuote, quote.id, populate_existing=True).used_at is not None
    assert verify_ledger() == []
    decided = change_requests.approve(made.id, actor=approver)
    assert decided.status == "approved"
    assert balance(usd, fresh=True) == 10_795  # at the quoted rate
    assert verify_ledger() == []


def test_verify_ledger_finds_a_conversion_without_its_rate(app: Flask, customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    made = change_requests.submit(
        "ledger.conversion", {"quote_id": _quote(customer_user, eur, usd).id}, actor=customer_user
    )
    tx_id = made.result["transaction_id"]
    with write_transaction() as s:
        s.execute(
            sa.update(FxConversion)
            .where(FxConversion.transaction_id == tx_id)
            .values(to_amount_minor=10_796)
        )
    problems = verify_ledger()
    assert any("do not receive the stored 10796" in p for p in problems)
    assert any("is not what its rate and spread give (10795)" in p for p in problems)
    with write_transaction() as s:
        s.execute(sa.delete(FxConversion).where(FxConversion.transaction_id == tx_id))
    assert f"transaction {tx_id}: a conversion without its rate (fx_conversions)" in (
        verify_ledger()
    )
