"""A Hypothesis state machine over the ledger, on SQLite and PostgreSQL.

Deposits (some backdated: value dates), withdrawals, transfers (with idempotency keys
sometimes), multi-leg entries (``post_entry``: a payment with its fee, some unbalanced)
and reversals (of multi-leg entries and conversions too) run through vaulta.services.ledger,
refused ones included (bad amounts, insufficient funds, mixed currencies, unbalanced legs,
reversing twice, reversing a reversal), while accounts get and lose overdraft limits and
debit or credit blocks. Holds (vaulta.services.ledger.holds) are placed (amount, reason,
expiry), captured in full or in part, released and expired by the expiry job, refused ones
too (above the available balance, capturing more than is held, ending a hold that is no
longer active). The customer converts between their EUR and USD accounts
(``request_quote``, then the ``ledger.conversion`` change request, executed at once) at the
rates tests/services/fx/support.py loads: one entry of four postings through the FX
position accounts, whose stored amounts the model applies after checking them against the
rate and spread (rounded down, in the bank's favour, by less than one minor unit).

A model keeps the expected balances, held amounts, holds and each account's postings per
value date; after every step every invariant of the books is checked against the database
(``verify_ledger`` included): stored balances and held amounts are the model's, ``held``
is the sum of the active holds, no customer account's available balance (balance less
held plus overdraft limit) is below zero, and money a hold reserves cannot be spent.
Each example works on fresh accounts (its holds are released when it ends), so examples
share the database without truncating.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from tests import factories
from tests.helpers import count_rows
from tests.services.fx.support import RATES, load_rates
from vaulta.extensions import db
from vaulta.models import (
    Account,
    AuditEvent,
    FxConversion,
    Hold,
    Posting,
    Transaction,
    User,
    utcnow,
)
from vaulta.models.account import (
    ACCOUNT_ACTIVE,
    ACCOUNT_CREDIT_BLOCKED,
    ACCOUNT_DEBIT_BLOCKED,
    KIND_CUSTOMER,
    MAY_RECEIVE,
    MAY_SEND,
)
from vaulta.models.hold import HOLD_ACTIVE, HOLD_CAPTURED, HOLD_EXPIRED, HOLD_RELEASED
from vaulta.models.transaction import TX_CONVERSION, TX_REVERSAL
from vaulta.money import exponent
from vaulta.services import ledger
from vaulta.services.banking import accounts, limits
from vaulta.services.changes import change_requests
from vaulta.services.errors import (
    AccountNotAvailable,
    Conflict,
    DomainError,
    InsufficientFunds,
    InvalidInput,
)
from vaulta.services.ledger import Leg, holds, post_entry
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.ledger.fx import quotes
from vaulta.services.unit_of_work import write_transaction

CURRENCIES = ("EUR", "EUR", "EUR", "EUR", "USD")  # the accounts of each example
USD_INDEX = 4  # the account the EUR ones convert into and from
ACCOUNT = st.integers(0, len(CURRENCIES) - 1)
OTHER = st.integers(0, len(CURRENCIES) - 1)  # an offset to the other account (0: itself)
# Mostly affordable amounts, sometimes large ones, rarely invalid ones.
AMOUNT = st.one_of(st.integers(1, 5_000), st.integers(1, 80_000), st.sampled_from([0, -7, 10**12]))
HOLD_AMOUNT = st.one_of(st.integers(1, 5_000), st.integers(1, 60_000), st.sampled_from([0, -3]))
# How much of a hold to capture: None all of it, 1..100 that percentage, 0 nothing (refused),
# 101 one unit more than it holds (refused).
CAPTURE = st.one_of(st.none(), st.integers(1, 100), st.sampled_from([0, 101]))
WHOLE = -1  # convert the account's whole balance (refused at posting when holds take it)
CONVERT_AMOUNT = st.one_of(
    st.integers(1, 8_000), st.integers(1, 60_000), st.sampled_from([0, 1, WHOLE, WHOLE])
)
SETTINGS = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,  # the same examples on every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _market_rates() -> dict[tuple[str, str], Fraction]:
    """Units of the second currency per unit of the first, from the rates the FX tests
    load (both directions: the service inverts when only the other one is in force)."""
    found: dict[tuple[str, str], Fraction] = {}
    for row in csv.DictReader(io.StringIO(RATES)):
        rate = Fraction(Decimal(row["rate"]))
        found[(row["base"], row["quote"])] = rate
        found.setdefault((row["quote"], row["base"]), 1 / rate)
    return found


MARKET = _market_rates()


@dataclass
class HeldModel:
    """What the model knows about a hold."""

    account_id: int
    amount: int
    expires_at: datetime
    status: str = HOLD_ACTIVE
    captured: int = 0


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
    spread_bps: int  # FX_SPREAD_BPS

    posted = Bundle("posted")
    placed = Bundle("placed")  # hold ids

    def __init__(self) -> None:
        super().__init__()
        self.actor = db.session.get(User, self.actor_id)
        self.login = factories.make_customer_login()  # converts between their accounts
        customer = factories.customer_of(self.login)
        self.ids = [accounts.open_account(customer, c, actor=self.actor).id for c in CURRENCIES]
        for index in range(len(self.ids)):  # some money to move from the first step on
            ledger.deposit(self.account(index), 30_000, actor=self.actor, description="Opening")
        self.system = {c: accounts.system_account(c).id for c in set(CURRENCIES)}
        self.position = {c: accounts.fx_position_account(c).id for c in set(CURRENCIES)}
        self.currency = dict(zip(self.ids, CURRENCIES, strict=True))
        self.currency.update({i: c for c, i in self.system.items()})
        self.currency.update({i: c for c, i in self.position.items()})
        self.bank = set(self.system.values()) | set(self.position.values())
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
        self.limit = dict.fromkeys(self.ids, 0)  # overdraft limits of the customer accounts
        self.status = dict.fromkeys(self.ids, ACCOUNT_ACTIVE)
        self.held = dict.fromkeys(self.ids, 0)  # the active holds' sum per customer account
        self.holds: dict[int, HeldModel] = {}
        self.key_prefix = uuid.uuid4().hex[:12]
        db.session.commit()

    # --- the model ---------------------------------------------------------------------

    def refusal(self, debit: int, credit: int, amount: int) -> type[DomainError] | None:
        """The error ledger.post must raise for this posting, or None if it must succeed."""
        if amount <= 0 or debit == credit or self.currency[debit] != self.currency[credit]:
            return InvalidInput
        if amount > self.max_amount:
            return InvalidInput
        return self.debit_refusal(debit, amount) or self.credit_refusal(credit)

    def available(self, account_id: int) -> int:
        """What a debit or a new hold may take from a customer account: the balance less
        its active holds plus its overdraft limit."""
        return self.expected[account_id] - self.held[account_id] + self.limit[account_id]

    def debit_refusal(self, account_id: int, amount: int) -> type[DomainError] | None:
        """``check_debit``: blocked, or a customer account whose available balance is short."""
        if self.status.get(account_id, ACCOUNT_ACTIVE) not in MAY_SEND:
            return AccountNotAvailable
        if account_id not in self.bank and self.available(account_id) < amount:
            return InsufficientFunds
        return None

    def credit_refusal(self, account_id: int) -> type[DomainError] | None:
        if self.status.get(account_id, ACCOUNT_ACTIVE) not in MAY_RECEIVE:
            return AccountNotAvailable
        return None

    def entry_refusal(self, legs: list[tuple[int, int]]) -> type[DomainError] | None:
        """The error ``post_entry`` must raise for these legs (checked once locked: each
        currency balances, then each account's net change in ascending id order)."""
        totals: dict[str, int] = {}
        net: dict[int, int] = {}
        for account_id, change in legs:
            currency = self.currency[account_id]
            totals[currency] = totals.get(currency, 0) + change
            net[account_id] = net.get(account_id, 0) + change
        if any(totals.values()):
            return InvalidInput
        for account_id, change in sorted(net.items()):
            refusal = None
            if change < 0:
                refusal = self.debit_refusal(account_id, -change)
            elif change > 0:
                refusal = self.credit_refusal(account_id)
            if refusal is not None:
                return refusal
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
        *,
        modelled: bool = False,
    ) -> Any:
        """Run ``call``; expect the model's refusal (``refusal``, or when not given and not
        ``modelled`` already, ``self.refusal``) or apply the entry to the model: its
        ``legs`` (account, signed amount; by default the debit's ``-amount`` and the
        credit's ``+amount``) on ``day`` (today by default)."""
        if not modelled:
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
        else:  # does not balance per currency, blocked accounts, funds
            refusal = self.entry_refusal(legs)
        return self.attempt(
            a, b, amount, "payment", call, refusal=refusal, legs=legs, modelled=True
        )

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
        """Reverse an entry: a two-leg one as a posting, a multi-leg one (a payment with its
        fee, a conversion) by the opposite entry whose principal is what the original's
        to-account received."""
        legs = [(account_id, -change) for account_id, change in original.legs]
        amount = original.amount
        refusal: type[DomainError] | None = None
        if original.kind == TX_REVERSAL or original.id in self.reversed:
            refusal = Conflict
        elif len(legs) > 2:
            amount = sum(c for a, c in original.legs if a == original.credit and c > 0)
            refusal = self.entry_refusal(legs)
        else:
            refusal = self.refusal(original.credit, original.debit, amount)
        posted = self.attempt(
            original.credit,
            original.debit,
            amount,
            TX_REVERSAL,
            lambda: ledger.reverse(original.id, actor=self.actor, reason="Mistake"),
            refusal=refusal,
            legs=legs,
            modelled=True,
        )
        if isinstance(posted, Posted):
            self.reversed.add(original.id)
        return posted

    @rule(index=ACCOUNT, limit=st.sampled_from([0, 5_000, 40_000]))
    def set_overdraft(self, index: int, limit: int) -> None:
        """A new overdraft limit (as an approved ``account.overdraft`` sets it): refused when
        unchanged or below what the account owes, counting what its holds reserve."""
        account_id = self.ids[index]
        refusal: type[DomainError] | None = None
        if limit == self.limit[account_id]:
            refusal = InvalidInput
        elif self.expected[account_id] - self.held[account_id] < -limit:
            refusal = Conflict  # what it owes, counting what its holds reserve
        event(f"overdraft: {refusal.__name__ if refusal else 'set'}")

        def call() -> None:
            with write_transaction() as s:
                limits.set_overdraft_in(s, account_id, limit, actor=self.actor)

        if refusal is not None:
            with pytest.raises(refusal):
                call()
            return
        call()
        self.limit[account_id] = limit
        self.audit_events += 1

    @rule(
        index=ACCOUNT,
        status=st.sampled_from([ACCOUNT_ACTIVE, ACCOUNT_DEBIT_BLOCKED, ACCOUNT_CREDIT_BLOCKED]),
    )
    def set_status(self, index: int, status: str) -> None:
        """Block or unblock an account (the status an approved request leaves)."""
        account_id = self.ids[index]
        db.session.execute(sa.update(Account).where(Account.id == account_id).values(status=status))
        db.session.commit()
        self.status[account_id] = status

    # --- holds -------------------------------------------------------------------------------

    @initialize(
        target=placed, index=ACCOUNT, amount=st.integers(1, 20_000), hours=st.integers(1, 6)
    )
    def first_hold(self, index: int, amount: int, hours: int) -> Any:
        """Every example starts with a hold (the opening deposit covers it)."""
        return self.place_hold(index, amount, hours)

    @rule(target=placed, index=ACCOUNT, amount=HOLD_AMOUNT, hours=st.integers(1, 6))
    def place_hold(self, index: int, amount: int, hours: int) -> Any:
        """Reserve ``amount`` until ``hours`` from now: refused when it is not positive, the
        account is debit-blocked or its available balance is short."""
        account_id = self.ids[index]
        expires_at = utcnow() + timedelta(hours=hours)
        refusal = InvalidInput if amount <= 0 else self.debit_refusal(account_id, amount)
        event(f"hold: {refusal.__name__ if refusal else 'placed'}")

        def call() -> int:
            return holds.place(
                account_id,
                amount,
                reason="Card authorisation",
                expires_at=expires_at,
                actor=self.actor,
            )

        if refusal is not None:
            with pytest.raises(refusal):
                call()
            return multiple()
        hold_id = call()
        self.holds[hold_id] = HeldModel(account_id, amount, expires_at)
        self.held[account_id] += amount
        self.audit_events += 1
        return hold_id

    @rule(target=placed, index=ACCOUNT, hours=st.integers(1, 6))
    def hold_all_available(self, index: int, hours: int) -> Any:
        """The boundary: hold exactly the available balance (overdraft included), leaving
        nothing to spend; refused as a zero amount when nothing is available."""
        return self.place_hold(index, max(self.available(self.ids[index]), 0), hours)

    @rule(target=posted, hold_id=placed, share=CAPTURE)
    def capture_hold(self, hold_id: int, share: int | None) -> Any:
        """Capture all of a hold or ``part`` of it: one withdrawal entry to the system account,
        the rest released. Refused for a hold no longer active, more than it holds, or an
        account that cannot be debited even with its own hold taken off."""
        hold = self.holds[hold_id]
        part = None
        if share is not None:
            part = 0 if share == 0 else max(1, hold.amount * share // 100)
            part = hold.amount + 1 if share > 100 else part
        amount = hold.amount if part is None else part
        system = self.system[self.currency[hold.account_id]]
        refusal: type[DomainError] | None = None
        if amount <= 0:
            refusal = InvalidInput
        elif hold.status != HOLD_ACTIVE:
            refusal = Conflict
        elif amount > hold.amount:
            refusal = InvalidInput
        else:
            self.held[hold.account_id] -= hold.amount  # what the posting sees
            refusal = self.debit_refusal(hold.account_id, amount)
            self.held[hold.account_id] += hold.amount

        def call() -> Transaction:
            captured, tx_id = holds.capture(hold_id, part, actor=self.actor)
            assert captured == amount
            tx = db.session.get(Transaction, tx_id)
            assert tx is not None
            return tx

        posted = self.attempt(
            hold.account_id, system, amount, "capture", call, refusal=refusal, modelled=True
        )
        if isinstance(posted, Posted):
            hold.status, hold.captured = HOLD_CAPTURED, amount
            self.held[hold.account_id] -= hold.amount
            self.audit_events += 1  # hold.capture, beside the entry's own
        return posted

    @rule(hold_id=placed)
    def release_hold(self, hold_id: int) -> None:
        hold = self.holds[hold_id]
        event(f"release: {'released' if hold.status == HOLD_ACTIVE else 'Conflict'}")
        if hold.status != HOLD_ACTIVE:
            with pytest.raises(Conflict):
                holds.release(hold_id, actor=self.actor)
            return
        assert holds.release(hold_id, actor=self.actor) == hold.amount
        hold.status = HOLD_RELEASED
        self.held[hold.account_id] -= hold.amount
        self.audit_events += 1

    @rule(hold_id=placed, hours=st.integers(0, 7))
    def expire_holds(self, hold_id: int, hours: int) -> None:
        """The expiry job, run ``hours`` from now: every active hold due by then expires
        (``hold_id`` only waits for a hold to have been placed)."""
        now = utcnow() + timedelta(hours=hours)
        due = [h for h in self.holds.values() if h.status == HOLD_ACTIVE and h.expires_at <= now]
        event(f"expiry: {min(len(due), 2)}+ due")
        assert holds.expire_due(now=now) == len(due)
        for hold in due:
            hold.status = HOLD_EXPIRED
            self.held[hold.account_id] -= hold.amount
        self.audit_events += len(due)

    # --- conversions ---------------------------------------------------------------------

    @rule(
        target=posted,
        eur=st.integers(0, USD_INDEX - 1),
        to_usd=st.booleans(),
        amount=CONVERT_AMOUNT,
    )
    def convert(self, eur: int, to_usd: bool, amount: int) -> Any:
        """The customer converts ``amount`` between an EUR account and their USD account: a
        quote, then the ``ledger.conversion`` request (executed at once)."""
        a, b = self.ids[eur], self.ids[USD_INDEX]
        if not to_usd:
            a, b = b, a
        source, target = self.currency[a], self.currency[b]
        if amount == WHOLE:
            amount = self.expected[a]
        scale = Fraction(10) ** (exponent(target) - exponent(source))
        exact = (
            amount * scale * MARKET[(source, target)] * Fraction(10_000 - self.spread_bps, 10_000)
        )
        # Refused by the quote: amount, account status (both active), the balance, worth nothing.
        refusal: type[DomainError] | None = None
        if amount <= 0 or amount > self.max_amount:
            refusal = InvalidInput
        elif self.status[a] != ACCOUNT_ACTIVE or self.status[b] != ACCOUNT_ACTIVE:
            refusal = AccountNotAvailable
        elif self.expected[a] < amount:
            refusal = InsufficientFunds
        elif exact < 1:
            refusal = InvalidInput
        if refusal is not None:
            event(f"conversion: quote {refusal.__name__}")
            with pytest.raises(refusal):
                quotes.request_quote(
                    self.login, from_account_id=a, to_account_id=b, amount_minor=amount
                )
            return multiple()
        quote = quotes.request_quote(
            self.login, from_account_id=a, to_account_id=b, amount_minor=amount
        )
        received = quote.to_amount_minor
        legs = [
            (a, -amount),
            (self.position[source], amount),
            (self.position[target], -received),
            (b, received),
        ]
        # Rounded down to a whole minor unit: the bank's favour, by less than one unit.
        assert exact - 1 < received <= exact, (amount, received, exact)

        entry_refusal = self.entry_refusal(legs)  # the available balance (holds, overdraft)
        if entry_refusal is not None:
            # The request passed its checks (the balance covers it) but the posting, under
            # the account's lock, refuses: the request is stored failed, nothing is posted.
            event(f"conversion: request failed, {entry_refusal.__name__}")
            made = change_requests.submit(
                "ledger.conversion", {"quote_id": quote.id}, actor=self.login
            )
            assert made.status == "failed"
            assert made.result is None
            assert (made.failure_reason or "").startswith("Insufficient funds"), made
            assert entry_refusal is InsufficientFunds
            self.audit_events += 2  # the request's submit and fail
            return multiple()

        def call() -> Transaction:
            made = change_requests.submit(
                "ledger.conversion", {"quote_id": quote.id}, actor=self.login
            )
            assert made.status == "approved", made.failure_reason
            tx = db.session.get(Transaction, made.result["transaction_id"])
            assert tx is not None
            return tx

        posted = self.attempt(
            a, b, amount, TX_CONVERSION, call, refusal=None, legs=legs, modelled=True
        )
        assert isinstance(posted, Posted)
        fx = db.session.get(FxConversion, posted.id)
        assert fx is not None
        assert (fx.from_amount_minor, fx.to_amount_minor) == (amount, received)
        assert (fx.from_currency, fx.to_currency, fx.spread_bps) == (
            source,
            target,
            self.spread_bps,
        )
        stored = db.session.execute(
            sa.select(Posting.account_id, Posting.amount_minor)
            .where(Posting.transaction_id == posted.id)
            .order_by(Posting.id)
        ).all()
        assert sorted(map(tuple, stored)) == sorted(legs)
        # Beside transaction.conversion: fx.conversion and the request's submit and execute.
        self.audit_events += 3
        return posted

    def teardown(self) -> None:
        """Release the example's active holds, so the next example's expiry job finds only
        its own."""
        for hold_id, hold in self.holds.items():
            if hold.status == HOLD_ACTIVE:
                holds.release(hold_id, actor=self.actor)
        db.session.commit()

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
            Account.kind == KIND_CUSTOMER, Account.balance_minor < -Account.overdraft_limit_minor
        )
        assert db.session.scalars(negative).all() == []
        # Every account's postings per value date are the model's.
        stored_days = {k: v for k, v in self.stored_by_day().items() if v}
        assert stored_days == {k: v for k, v in self.by_day.items() if v}
        stored_limits = dict(
            db.session.execute(
                sa.select(Account.id, Account.overdraft_limit_minor).where(
                    Account.id.in_(self.limit)
                )
            ).all()
        )
        assert stored_limits == self.limit
        # Holds: the stored held amounts and holds are the model's; held is the sum of the
        # active holds; no customer account's available balance is below zero.
        stored_held = dict(
            db.session.execute(
                sa.select(Account.id, Account.held_minor).where(Account.id.in_(self.held))
            ).all()
        )
        assert stored_held == self.held
        for account_id, held in self.held.items():
            active = [h.amount for h in self.holds.values() if h.account_id == account_id]
            assert held == sum(
                h.amount
                for h in self.holds.values()
                if h.account_id == account_id and h.status == HOLD_ACTIVE
            ), active
            assert self.available(account_id) >= 0, (account_id, self.available(account_id))
        if self.holds:
            stored_holds = {
                row.id: (row.status, row.captured_minor, row.amount_minor)
                for row in db.session.execute(
                    sa.select(Hold.id, Hold.status, Hold.captured_minor, Hold.amount_minor).where(
                        Hold.id.in_(self.holds)
                    )
                )
            }
            assert stored_holds == {
                i: (h.status, h.captured, h.amount) for i, h in self.holds.items()
            }
        # Refused operations left nothing behind: no transaction, posting or audit event.
        assert count_rows(Transaction) == self.transactions
        assert count_rows(Posting) == self.postings
        assert count_rows(AuditEvent) == self.audit_events
        db.session.commit()


def test_ledger_state_machine(app: Flask, admin: User) -> None:
    load_rates()
    machine = type(
        "Ledger",
        (LedgerMachine,),
        {
            "actor_id": admin.id,
            "max_amount": app.config["LEDGER_MAX_AMOUNT_MINOR"],
            "spread_bps": int(app.config["FX_SPREAD_BPS"]),
        },
    )
    run_state_machine_as_test(machine, settings=SETTINGS)
