"""Helpers for statement tests: dated postings, the ledger's as-of balance computed the
slow, obvious way, many entries at once, and the text of a PDF."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from pypdf import PdfReader

from vaulta.extensions import db
from vaulta.models import Account, Customer, Posting, User
from vaulta.models.base import clock_set_to
from vaulta.models.transaction import TX_DEPOSIT
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.reports import statement_archive
from vaulta.services.unit_of_work import write_transaction


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def open_account_on(customer_id: int, day: date, actor: User, currency: str = "EUR") -> Account:
    customer = db.session.get(Customer, customer_id)
    assert customer is not None
    with clock_set_to(at(day, 8)):
        return accounts.open_account(customer, currency, actor=actor)


def deposit_on(account: Account, day: date, amount: int, actor: User, what: str = "Pay") -> None:
    with clock_set_to(at(day)):
        ledger.deposit(account, amount, actor=actor, description=what)


def withdraw_on(account: Account, day: date, amount: int, actor: User, what: str = "Rent") -> None:
    with clock_set_to(at(day)):
        ledger.withdraw(account, amount, actor=actor, description=what)


def as_of(account: Account, day: date) -> int:
    """The ledger's balance at the start of ``day`` by value date, the slow, obvious way:
    every posting of the account dated before ``day``."""
    before = sa.select(sa.func.coalesce(sa.func.sum(Posting.amount_minor), 0)).where(
        Posting.account_id == account.id, Posting.value_date < day
    )
    return int(db.session.scalar(before) or 0)


def many_deposits(account: Account, count: int, actor: User, day: date) -> None:
    """``count`` deposits into ``account`` on ``day``, in one transaction (``move_many``)."""
    system = accounts.system_account(account.currency).id
    moves = [
        ledger.Move(system, account.id, 100 + n, TX_DEPOSIT, f"Deposit {n}") for n in range(count)
    ]
    with clock_set_to(at(day)), write_transaction() as s:
        locked = ledger.lock_accounts(s, system, account.id)
        outcomes = ledger.move_many(s, locked, moves, actor_id=actor.id)
    assert all(isinstance(o, int) for o in outcomes)


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page of a PDF."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def day_after(day: date) -> date:
    return day + timedelta(days=1)


def backdating_open(month: date) -> datetime:
    """09:00 UTC on the first day after ``month``: the month is over, but entries may still
    be dated into it (its statement is provisional)."""
    return at(statement_archive.next_month(month), 9)


def backdating_closed(month: date) -> datetime:
    """00:05 UTC on the day ``month``'s backdating window closes (LEDGER_BACKDATE_DAYS after
    it): its statement is final and kept."""
    return datetime.combine(statement_archive.window_closes(month), time(0, 5), tzinfo=UTC)
