"""The ledger without HTTP: double entry, balances, refusals, idempotency, reversals."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import balance, count_rows
from vaulta.extensions import db
from vaulta.models import Account, Transaction, User
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.errors import AccountNotAvailable, Conflict, InsufficientFunds, InvalidInput
from vaulta.services.ledger.checks import verify_ledger


def test_deposit_credits_customer_from_system_account(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    tx = ledger.deposit(account, 10_000, actor=admin, description="Cash in")
    system = accounts.system_account("EUR")
    assert (tx.debit_account_id, tx.credit_account_id) == (system.id, account.id)
    assert balance(account) == 10_000
    assert balance(system) == -10_000
    assert tx.kind == "deposit"
    assert tx.currency == "EUR"
    assert tx.created_by_id == admin.id
    assert verify_ledger() == []


def test_withdrawal_and_transfer(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR", 5_000)
    b = factories.make_account(factories.make_customer(), "EUR")
    ledger.withdraw(a, 1_000, actor=admin, description="ATM")
    ledger.transfer(a, b, 1_500, actor=admin, description="Rent")
    assert (balance(a), balance(b)) == (2_500, 1_500)
    assert verify_ledger() == []


def test_customer_balance_never_goes_negative(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR", 1_000)
    b = factories.make_account(factories.make_customer(), "EUR")
    with pytest.raises(InsufficientFunds):
        ledger.transfer(a, b, 1_001, actor=admin, description="Too much")
    with pytest.raises(InsufficientFunds):
        ledger.withdraw(a, 1_001, actor=admin, description="Too much")
    assert (balance(a), balance(b)) == (1_000, 0)
    assert count_rows(Transaction) == 1


@pytest.mark.parametrize("amount", [0, -5, 10_000_000_001])
def test_amount_must_be_positive_and_under_the_limit(app: Flask, admin: User, amount: int) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    with pytest.raises(InvalidInput):
        ledger.deposit(account, amount, actor=admin, description="x")
    assert balance(account) == 0


def test_currencies_must_match(app: Flask, admin: User) -> None:
    customer = factories.make_customer()
    eur = factories.make_account(customer, "EUR", 1_000)
    usd = factories.make_account(customer, "USD")
    with pytest.raises(InvalidInput, match="same currency"):
        ledger.transfer(eur, usd, 100, actor=admin, description="x")


def test_description_is_required(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    with pytest.raises(InvalidInput, match="description"):
        ledger.deposit(account, 100, actor=admin, description="  ")


@pytest.mark.parametrize("status", ["frozen", "closed"])
def test_unavailable_accounts_refuse(app: Flask, admin: User, status: str) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_000)
    db.session.execute(sa.update(Account).where(Account.id == account.id).values(status=status))
    db.session.commit()
    with pytest.raises(AccountNotAvailable):
        ledger.deposit(account, 100, actor=admin, description="x")
    assert balance(account) == 1_000


def test_idempotency_key_returns_the_first_result(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    first = ledger.deposit(account, 700, actor=admin, description="x", idempotency_key="k-1")
    again = ledger.deposit(account, 700, actor=admin, description="x", idempotency_key="k-1")
    assert first.id == again.id
    assert balance(account) == 700
    with pytest.raises(Conflict):
        ledger.deposit(account, 800, actor=admin, description="x", idempotency_key="k-1")


def test_reversal_posts_the_opposite_once(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR", 5_000)
    b = factories.make_account(factories.make_customer(), "EUR")
    tx = ledger.transfer(a, b, 2_000, actor=admin, description="Wrong payee")
    reversal = ledger.reverse(tx.id, actor=admin, reason="Customer error")
    assert reversal.reverses_id == tx.id
    assert reversal.kind == "reversal"
    assert (reversal.debit_account_id, reversal.credit_account_id) == (b.id, a.id)
    assert (balance(a), balance(b)) == (5_000, 0)
    with pytest.raises(Conflict, match="already been reversed"):
        ledger.reverse(tx.id, actor=admin, reason="again")
    with pytest.raises(Conflict, match="cannot itself be reversed"):
        ledger.reverse(reversal.id, actor=admin, reason="again")
    assert verify_ledger() == []


def test_reversal_refused_when_funds_have_moved_on(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR", 5_000)
    b = factories.make_account(factories.make_customer(), "EUR")
    tx = ledger.transfer(a, b, 2_000, actor=admin, description="x")
    ledger.withdraw(b, 2_000, actor=admin, description="gone")
    with pytest.raises(InsufficientFunds):
        ledger.reverse(tx.id, actor=admin, reason="too late")
    assert verify_ledger() == []


def test_verifier_reports_a_tampered_balance(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_000)
    db.session.execute(sa.update(Account).where(Account.id == account.id).values(balance_minor=999))
    db.session.commit()
    problems = verify_ledger()
    assert any("stored balance 999 != sum of postings 1000" in p for p in problems)
    assert any("balances sum to -1" in p for p in problems)
