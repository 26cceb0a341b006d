"""The demo book: 90 days of dated history through the real services, consistent at every
moment, written once."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.helpers import count_rows
from tests.services.payments.factories import make_payment
from vaulta.extensions import db
from vaulta.models import (
    OTP,
    Account,
    AuditEvent,
    ChangeRequest,
    Customer,
    Payment,
    Transaction,
    User,
    utcnow,
)
from vaulta.models.account import KIND_CUSTOMER
from vaulta.models.base import clock_set_to
from vaulta.models.payment import PAYMENT_EXECUTED, PAYMENT_PENDING
from vaulta.models.transaction import TX_DEPOSIT, TX_WITHDRAWAL
from vaulta.ops.seeding.demo import (
    APPROVER_EMAIL,
    CUSTOMER_EMAIL,
    HISTORY_DAYS,
    TELLER_EMAIL,
    seed_demo,
)
from vaulta.ops.seeding.demo_history import Approve, Post, Request, affordable
from vaulta.services.changes import change_queries
from vaulta.services.identity import users
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.ledger.fx import rates

TABLES = (User, Customer, Account, Transaction, AuditEvent, Payment, OTP)
PAYDAY_BEFORE_DAWN = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # a Wednesday


def _counts() -> dict[str, int]:
    return {model.__name__: count_rows(model) for model in TABLES}


def test_the_demo_has_90_days_of_consistent_history_and_is_written_once(app: Flask) -> None:
    # Seeded early on a payday: that day's salaries are due later, not already posted.
    with clock_set_to(PAYDAY_BEFORE_DAWN):
        _check_the_demo()


def _check_the_demo() -> None:
    before = utcnow()
    assert seed_demo() is True
    transactions = db.session.scalars(sa.select(Transaction).order_by(Transaction.id)).all()
    times = [t.created_at for t in transactions]
    assert len({t.date() for t in times}) >= 60
    assert before - timedelta(days=HISTORY_DAYS + 1) < min(times) < before - timedelta(days=88)
    assert max(times) < utcnow()
    assert times == sorted(times)  # posted in time order
    assert verify_ledger() == []
    # FX rates in force since the start, so the demo customer's EUR and USD accounts convert.
    in_force = rates.rate_in_force(db.session, "USD", "EUR", utcnow())
    assert (in_force.rate, in_force.inverted) == (Decimal("1.0850"), True)

    # Each account's balance, replayed in time order, is never below zero.
    customer_accounts = set(
        db.session.scalars(sa.select(Account.id).where(Account.kind == KIND_CUSTOMER))
    )
    balances: dict[int, int] = defaultdict(int)
    for t in sorted(transactions, key=lambda t: (t.created_at, t.id)):
        balances[t.debit_account_id] -= t.amount_minor
        balances[t.credit_account_id] += t.amount_minor
        assert balances[t.debit_account_id] >= 0 or t.debit_account_id not in customer_accounts

    # Every movement's audit event carries the movement's own time.
    events = {
        int(e.object_id): e.created_at
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.object_type == "transaction")
        )
    }
    assert {t.id: t.created_at for t in transactions} == events
    # Customers joined before their accounts opened, which opened before they moved money.
    for account in db.session.scalars(sa.select(Account).where(Account.kind == KIND_CUSTOMER)):
        first = min(t.created_at for t in transactions if account.id in _sides(t))
        assert account.customer.created_at < account.opened_at < first

    kinds = {t.kind for t in transactions}
    assert {"deposit", "withdrawal", "transfer", "payment"} <= kinds
    payments = db.session.scalars(sa.select(Payment)).all()
    executed = [p for p in payments if p.status == PAYMENT_EXECUTED]
    assert executed
    for payment in executed:
        assert payment.created_at < payment.confirmed_at < payment.approved_at
        assert payment.transaction.created_at == payment.approved_at
        assert payment.admin_approved_by != payment.requested_by_id
    assert sum(p.status == PAYMENT_PENDING for p in payments) == 3
    assert all(p.created_at < utcnow() - timedelta(hours=24) for p in payments)
    _check_the_four_eyes_demo()

    counts = _counts()
    assert seed_demo() is False
    assert _counts() == counts


def _check_the_four_eyes_demo() -> None:
    """approver@ has an inbox of the teller's requests, and Casey's next small payment
    needs one approver, no step-up (her pending payments are older than 24 hours)."""
    teller = users.find_by_email(TELLER_EMAIL)
    approver = users.find_by_email(APPROVER_EMAIL)
    assert teller is not None
    assert approver is not None
    pending = change_queries.decidable_for(approver)
    assert sorted(r.action for r in pending if r.maker_id == teller.id) == [
        "customer.update",
        "ledger.deposit",
        "ledger.withdrawal",
    ]
    # Casey's three pending payments wait in the same inbox, each as its own request.
    others = [r for r in pending if r.maker_id != teller.id]
    assert [r.action for r in others] == ["payments.payment"] * 3
    levels = {r.action: (r.levels_required, r.amount_minor) for r in pending}
    assert levels["ledger.withdrawal"] == (2, 1_200_000)
    assert levels["ledger.deposit"][0] == 1
    casey = users.find_by_email(CUSTOMER_EMAIL)
    assert casey is not None
    assert casey.customer is not None
    eur = next(a for a in casey.customer.accounts if a.currency == "EUR")
    small = make_payment(casey, eur, amount="25.00")
    request = db.session.get(ChangeRequest, small.change_request_id)
    assert request is not None
    assert (request.levels_required, request.step_up_levels) == (1, [])


def _sides(t: Transaction) -> tuple[int, int]:
    return t.debit_account_id, t.credit_account_id


def test_the_plan_leaves_out_what_an_account_could_not_pay_at_that_moment() -> None:
    day = datetime(2026, 3, 2, tzinfo=UTC)
    steps = [
        Post(day + timedelta(hours=9), TX_DEPOSIT, "a", 1_000, "Salary"),
        Post(day + timedelta(hours=8), TX_WITHDRAWAL, "a", 500, "Too early"),
        Post(day + timedelta(hours=10), TX_WITHDRAWAL, "a", 800, "Rent"),
        Request(day + timedelta(hours=11), "p", "casey", "a", 300, "Bill", to="b"),
        Approve(day + timedelta(hours=12), "p", "a", 300, to="b"),
        Post(day + timedelta(hours=13), TX_WITHDRAWAL, "a", 200, "Card"),
    ]
    kept = affordable(steps)
    assert [getattr(s, "description", type(s).__name__) for s in kept] == [
        "Salary",
        "Rent",
        "Card",
    ]


def test_the_clock_is_set_only_inside_the_block() -> None:
    moment = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    with clock_set_to(moment):
        assert utcnow() == moment
    assert utcnow() > moment
    with pytest.raises(ValueError, match="not a UTC timestamp"), clock_set_to(datetime(2026, 1, 5)):
        pass
