"""Dated demo history, written through the real services.

A plan (vaulta/ops/seeding/demo.py, demo_payments.py) is a list of steps, each at its own
moment of the past: a customer joins, an account opens, money moves, a payment is
requested, confirmed and approved. ``replay`` runs them in time order, each with the
clock set to its moment (``clock_set_to``), so every row, balance and audit event is the
one the services write, dated when the step happened. ``affordable`` first leaves out
every step that would take an account below zero at its moment: balances never go
negative in time order (and the ledger would refuse such a posting anyway).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from vaulta.models import Account, Customer, User
from vaulta.models.base import clock_set_to
from vaulta.models.payment import PAYMENT_EXECUTED
from vaulta.models.transaction import TX_DEPOSIT, TX_TRANSFER, TX_WITHDRAWAL
from vaulta.models.user import ROLE_CUSTOMER
from vaulta.money import format_plain
from vaulta.services import ledger
from vaulta.services.banking import accounts, customers
from vaulta.services.identity import users
from vaulta.services.payments import approvals, payment_requests
from vaulta.services.unit_of_work import session


@dataclass(frozen=True)
class Member:
    """A demo customer: who they are, their login (if any) and their accounts' currencies."""

    key: str
    name: str
    email: str | None
    login: bool
    currencies: tuple[str, ...]
    phone: str
    address: str | None = None


@dataclass
class Book:
    """What the replay has made so far, by the plan's keys."""

    teller: User
    approver: User
    password: str
    customers: dict[str, Customer] = field(default_factory=dict)
    logins: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    payments: dict[str, int] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)

    def account(self, key: str) -> Account:
        found = session().get(Account, self.accounts[key].id)
        assert found is not None
        return found


class Step(Protocol):
    at: datetime

    def run(self, book: Book) -> None: ...

    def changes(self) -> list[tuple[str, int]]:
        """(account key, signed amount) of the money this step moves."""
        ...


@dataclass(frozen=True)
class Join:
    """A customer is created by the teller; with a login when they have one."""

    at: datetime
    member: Member

    def run(self, book: Book) -> None:
        m = self.member
        customer = customers.create_customer(
            full_name=m.name, email=m.email, phone=m.phone, address=m.address, actor=book.teller
        )
        book.customers[m.key] = customer
        if m.login and m.email:
            book.logins[m.key] = users.create_user(
                m.email, book.password, role=ROLE_CUSTOMER, full_name=m.name, customer=customer
            )

    def changes(self) -> list[tuple[str, int]]:
        return []


@dataclass(frozen=True)
class Open:
    """The teller opens an account for a customer who has joined."""

    at: datetime
    account: str
    member: str
    currency: str

    def run(self, book: Book) -> None:
        customer = book.customers[self.member]
        book.accounts[self.account] = accounts.open_account(
            customer, self.currency, actor=book.teller
        )

    def changes(self) -> list[tuple[str, int]]:
        return []


@dataclass(frozen=True)
class Post:
    """A deposit, withdrawal or transfer (to ``to``), posted by the teller."""

    at: datetime
    kind: str
    account: str
    amount_minor: int
    description: str
    to: str | None = None

    def run(self, book: Book) -> None:
        account, teller = book.account(self.account), book.teller
        if self.kind == TX_DEPOSIT:
            ledger.deposit(account, self.amount_minor, actor=teller, description=self.description)
        elif self.kind == TX_WITHDRAWAL:
            ledger.withdraw(account, self.amount_minor, actor=teller, description=self.description)
        else:
            assert self.kind == TX_TRANSFER
            assert self.to is not None
            target = book.account(self.to)
            ledger.transfer(
                account, target, self.amount_minor, actor=teller, description=self.description
            )

    def changes(self) -> list[tuple[str, int]]:
        if self.kind == TX_DEPOSIT:
            return [(self.account, self.amount_minor)]
        moves = [(self.account, -self.amount_minor)]
        return [*moves, (self.to, self.amount_minor)] if self.to else moves


@dataclass(frozen=True)
class Request:
    """A customer requests a payment (to a VAULTA account or an external beneficiary)."""

    at: datetime
    payment: str
    member: str
    account: str
    amount_minor: int
    reference: str
    to: str | None = None
    beneficiary: tuple[str, str, str] | None = None  # name, IBAN, BIC

    def run(self, book: Book) -> None:
        source = book.account(self.account)
        if self.to is not None:
            fields = {"to_account": book.account(self.to).number}
        else:
            assert self.beneficiary is not None
            name, iban, bic = self.beneficiary
            fields = {"beneficiary_name": name, "beneficiary_iban": iban, "beneficiary_bic": bic}
        payment, code = payment_requests.create_request(
            actor=book.logins[self.member],
            from_account=source.number,
            amount=format_plain(self.amount_minor, source.currency),
            reference=self.reference,
            **fields,
        )
        assert code is not None
        book.payments[self.payment], book.codes[self.payment] = payment.id, code

    def changes(self) -> list[tuple[str, int]]:
        return []


@dataclass(frozen=True)
class Confirm:
    """The requester enters the mailed code: the payment waits for approval."""

    at: datetime
    payment: str
    member: str

    def run(self, book: Book) -> None:
        code = book.codes.pop(self.payment)
        payment_requests.confirm(
            book.payments[self.payment], actor=book.logins[self.member], code=code
        )

    def changes(self) -> list[tuple[str, int]]:
        return []


@dataclass(frozen=True)
class Approve:
    """An approver approves the payment, which executes it."""

    at: datetime
    payment: str
    account: str
    amount_minor: int
    to: str | None = None

    def run(self, book: Book) -> None:
        decision = approvals.approve(
            book.payments[self.payment], actor=book.approver, send_code=False
        )
        assert decision.status == PAYMENT_EXECUTED, decision

    def changes(self) -> list[tuple[str, int]]:
        moves = [(self.account, -self.amount_minor)]
        return [*moves, (self.to, self.amount_minor)] if self.to else moves


def in_time_order(steps: Iterable[Step]) -> list[Step]:
    return sorted(steps, key=lambda step: step.at)


def affordable(steps: Iterable[Step]) -> list[Step]:
    """The steps in time order, without those that would overdraw an account at their
    moment (and without the request and confirmation of a payment left out that way)."""
    balances: dict[str, int] = {}
    kept: list[Step] = []
    dropped_payments: set[str] = set()
    for step in in_time_order(steps):
        after = dict(balances)
        for account, amount in step.changes():
            after[account] = after.get(account, 0) + amount
        if any(balance < 0 for balance in after.values()):
            if isinstance(step, Approve):
                dropped_payments.add(step.payment)
            continue
        balances = after
        kept.append(step)
    return [s for s in kept if getattr(s, "payment", None) not in dropped_payments]


def replay(steps: Iterable[Step], book: Book) -> None:
    """Run ``steps`` in time order, each with the clock set to its moment."""
    for step in in_time_order(steps):
        with clock_set_to(step.at):
            step.run(book)
