"""A Hypothesis state machine over the ledger, on SQLite and PostgreSQL.

Deposits (some backdated: value dates), withdrawals, transfers (with idempotency keys
sometimes), multi-leg entries (``post_entry``: a payment with its fee, some unbalanced)
and reversals (of multi-leg entries too) run through vaulta.services.ledger, refused ones
included (bad amounts, insufficient funds, mixed currencies, unbalanced legs, reversing
twice, reversing a reversal). A model keeps the expected balances and each account's
postings per value date; after every step every invariant of the books is checked
against the database.
Each example works on fresh accounts, so examples share the database without truncating.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from tests import factories
from tests.helpers import count_rows
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, Posting, Transaction, User, utcnow
from vaulta.models.account import KIND_CUSTOMER
from vaulta.models.transaction import TX_REVERSAL
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.errors import Conflict, DomainError, InsufficientFunds, InvalidInput
from vaulta.services.ledger import Leg, post_entry
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.unit_of_work import write_transaction

CURRENCIES = ("EUR", "EUR", "EUR", "EUR", "USD")  # the accounts of each example
ACCOUNT = st.integers(0, len(CURRENCIES) - 1)
OTHER = st.integers(0, len(CURRENCIES) - 1)  # an offset to the other account (0: itself)
# Mostly affordable amounts, sometimes large ones, rarely invalid ones.
AMOUNT = st.one_of(st.integers(1, 5_000), st.integers(1, 80_000), st.sampled_from([0, -7, 10**12]))
SETTINGS = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass(frozen=True)
class Posted:
    """What the model knows about a posted transaction."""

    id: int
    debit: int
    credit: int
    amount: int
    kind: str
    legs: tuple[tuple[int, int], ...] = ()


class LedgerMachine(RuleBasedStateMachine):
    actor_id: int  # set by the test
    max_amount: int

    posted = Bundle("posted")

    def __init__(self) -> None:
        super().__init__()
        self.actor = db.session.get(User, self.actor_id)
        customer = factories.make_customer()
        self.ids = [accounts.open_account(customer, c, actor=self.actor).id for c in CURRENCIES]
        for index in range(len(self.ids)):  # some money to move from the first step on
            ledger.deposit(self.account(index), 30_000, actor=self.actor, description="Opening")
        self.system = {c: accounts.system_account(c).id for c in set(CURRENCIES)}
        self.currency = dict(zip(self.ids, CURRENCIES, strict=True))
        self.currency.update({i: c for c, i in self.system.items()})
        self.expected = dict(
            db.session.execute(
                sa.select(Account.id, Account.balance_minor).where(Account.id.in_(self.currency))
            ).all()
        )
        self.transactions = count_rows(Transaction)
        self.postings = count_rows(Posting)
        self.by_day = self.stored_by_day()
        self.audit_events = count_rows(AuditEvent)
        self.reversed: set[int] = set()
        self.keys: dict[str, Posted] = {}
        self.key_prefix = uuid.uuid4().hex[:12]
        db.session.commit()

    # --- the model ---------------------------------------------------------------------

    def refusal(self, debit: int, credit: int, amount: int) -> type[DomainError] | None:
        """The error ledger.post must raise for this posting, or None if it must succeed."""
        if amount <= 0 or debit == credit or self.currency[debit] != self.currency[credit]:
            return InvalidInput
        if amount > self.max_amount:
            return InvalidInput
        if debit not in self.system.values() and self.expected[debit] < amount:
            return InsufficientFunds
        return None

    def attempt(
        self,
        debit: int,
        credit: int,
        amount: int,
        kind: str,
        call: Callable[[], Transaction],
        refusal: type[DomainError] | None = None,
        legs: list[tuple[int, int]] | None = None,
        day: date | None = None,
    ) -> Any:
        """Run ``call``; expect the model's refusal or apply the entry to the model: its
        ``legs`` (account, signed amount; by default the debit's ``-amount`` and the
        credit's ``+amount``) on ``day`` (today by default)."""
        refusal = refusal or self.refusal(debit, credit, amount)
        event(f"{kind}: {refusal.__name__ if refusal else 'posted'}")
        if refusal is not None:
            with pytest.raises(refusal):
                call()
            return multiple()
        tx = call()
        assert (tx.debit_account_id, tx.credit_account_id, tx.amount_minor) == (
            debit,
            credit,
            amount,
        )
        legs = legs or [(debit, -amount), (credit, amount)]
        day = day or utcnow().date()
        for account_id, change in legs:
            self.expected[account_id] += change
            self.by_day[(account_id, day)] = self.by_day.get((account_id, day), 0) + change
        self.transactions += 1
        self.postings += len(legs)
        self.audit_events += 1
        return Posted(tx.id, debit, credit, amount, kind, tuple(legs))

    def stored_by_day(self) -> dict[tuple[int, date], int]:
        """The postings of the example's accounts, summed per account and value date."""
        rows = db.session.execute(
            sa.select(Posting.account_id, Posting.value_date, sa.func.sum(Posting.amount_minor))
            .where(Posting.account_id.in_(self.currency))
            .group_by(Posting.account_id, Posting.value_date)
        ).all()
        return {(account_id, day): total for account_id, day, total in rows}

    def account(self, index: int) -> Account:
        account = db.session.get(Account, self.ids[index])
        assert account is not None
        return account

    # --- the rules -----------------------------------------------------------------------

    @rule(target=posted, index=ACCOUNT, amount=AMOUNT)
    def deposit(self, index: int, amount: int) -> Any:
        account = self.account(index)
        return self.attempt(
            self.system[account.currency],
            account.id,
            amount,
            "deposit",
            lambda: ledger.deposit(account, amount, actor=self.actor, description="Cash in"),
        )

    @rule(target=posted, index=ACCOUNT, amount=AMOUNT)
    def withdraw(self, index: int, amount: int) -> Any:
        account = self.account(index)
        return self.attempt(
            account.id,
            self.system[account.currency],
            amount,
            "withdrawal",
            lambda: ledger.withdraw(account, amount, actor=self.actor, description="ATM"),
        )

    @rule(target=posted, index=ACCOUNT, amount=st.integers(1, 5_000), back=st.integers(0, 5))
    def backdated_deposit(self, index: int, amount: int, back: int) -> Any:
        """A deposit whose value date is ``back`` days before today."""
        account = self.account(index)
        day = utcnow().date() - timedelta(days=back)
        return self.attempt(
            self.system[account.currency],
            account.id,
            amount,
            "deposit",
            lambda: ledger.deposit(
                account, amount, actor=self.actor, description="Backdated", value_date=day
            ),
            day=day,
        )

    @rule(
        target=posted,
        source=ACCOUNT,
        offset=OTHER,
        amount=AMOUNT,
        fee=st.one_of(st.integers(1, 300), st.just(0)),
        skew=st.sampled_from([0, 0, 0, 1]),
    )
    def pay_with_fee(self, source: int, offset: int, amount: int, fee: int, skew: int) -> Any:
        """A three-leg entry: the source pays ``amount + fee``, the target receives
        ``amount``, the bank's account ``fee - skew`` (unbalanced when ``skew``)."""
        a = self.ids[source]
        b = self.ids[(source + offset) % len(CURRENCIES)]
        bank = self.system[self.currency[a]]
        legs = [(a, -(amount + fee)), (b, amount), (bank, fee - skew)]

        def call() -> Transaction:
            with write_transaction() as s:
                tx_id = post_entry(
                    s,
                    [Leg(account_id, change) for account_id, change in legs],
                    kind="payment",
                    description="Invoice with fee",
                    actor_id=self.actor_id,
                    from_account_id=a,
                    to_account_id=b,
                    principal_minor=amount,
                )
            tx = db.session.get(Transaction, tx_id)
            assert tx is not None
            return tx

        refusal: type[DomainError] | None = None
        too_large = max(abs(amount), abs(amount + fee)) > self.max_amount
        if amount <= 0 or a == b or fee == 0 or skew or too_large:
            refusal = InvalidInput
        elif self.currency[a] != self.currency[b]:
            refusal = InvalidInput  # does not balance per currency
        elif self.expected[a] < amount + fee:
            refusal = InsufficientFunds
        return self.attempt(a, b, amount, "payment", call, refusal=refusal, legs=legs)

    @rule(target=posted, source=ACCOUNT, offset=OTHER, amount=AMOUNT)
    def transfer(self, source: int, offset: int, amount: int) -> Any:
        target_index = (source + offset) % len(CURRENCIES)
        a, b = self.account(source), self.account(target_index)
        return self.attempt(
            a.id,
            b.id,
            amount,
            "transfer",
            lambda: ledger.transfer(a, b, amount, actor=self.actor, description="Rent"),
        )

    @rule(target=posted, index=st.integers(0, 1), amount=st.just(500), key=st.integers(0, 2))
    def deposit_with_key(self, index: int, amount: int, key: int) -> Any:
        """A retry with the same key returns the first transaction; other requests conflict."""
        account = self.account(index)
        name = f"{self.key_prefix}-{key}"
        debit = self.system[account.currency]

        def call() -> Transaction:
            return ledger.deposit(
                account, amount, actor=self.actor, description="Keyed", idempotency_key=name
            )

        first = self.keys.get(name)
        if first is None:
            posted = self.attempt(debit, account.id, amount, "deposit", call)
            if isinstance(posted, Posted):
                self.keys[name] = posted
            return posted
        if (first.debit, first.credit, first.amount) != (debit, account.id, amount):
            return self.attempt(debit, account.id, amount, "deposit", call, refusal=Conflict)
        assert call().id == first.id
        return multiple()

    @rule(target=posted, original=posted)
    def reverse(self, original: Posted) -> Any:
        refusal = None
        if original.kind == TX_REVERSAL or original.id in self.reversed:
            refusal = Conflict
        posted = self.attempt(
            original.credit,
            original.debit,
            original.amount,
            TX_REVERSAL,
            lambda: ledger.reverse(original.id, actor=self.actor, reason="Mistake"),
            refusal=refusal,
            legs=[(account_id, -change) for account_id, change in original.legs],
        )
        if isinstance(posted, Posted):
            self.reversed.add(original.id)
        return posted

    # --- every invariant, after every step -------------------------------------------------

    @invariant()
    def books_hold(self) -> None:
        stored = dict(
            db.session.execute(
                sa.select(Account.id, Account.balance_minor).where(Account.id.in_(self.expected))
            ).all()
        )
        assert stored == self.expected
        assert verify_ledger() == []
        sums = db.session.execute(
            sa.select(Account.currency, sa.func.sum(Account.balance_minor)).group_by(
                Account.currency
            )
        ).all()
        assert all(total == 0 for _currency, total in sums), sums
        negative = sa.select(Account.id).where(
            Account.kind == KIND_CUSTOMER, Account.balance_minor < 0
        )
        assert db.session.scalars(negative).all() == []
        # Every account's postings per value date are the model's.
        stored_days = {k: v for k, v in self.stored_by_day().items() if v}
        assert stored_days == {k: v for k, v in self.by_day.items() if v}
        # Refused operations left nothing behind: no transaction, posting or audit event.
        assert count_rows(Transaction) == self.transactions
        assert count_rows(Posting) == self.postings
        assert count_rows(AuditEvent) == self.audit_events
        db.session.commit()


def test_ledger_state_machine(app: Flask, admin: User) -> None:
    machine = type(
        "Ledger",
        (LedgerMachine,),
        {"actor_id": admin.id, "max_amount": app.config["LEDGER_MAX_AMOUNT_MINOR"]},
    )
    run_state_machine_as_test(machine, settings=SETTINGS)
