"""A statement for a period of days: opening balance, every entry, closing balance, totals.

The rows are ``statements.iter_statement``'s (the CSV export's), so a period's running
balances, opening and closing balance are exactly those of the HTML and CSV statements:
the opening balance is the balance before the period's first entry, anchored like every
other statement on the stored balance (never a sum over the whole history).
"""

from __future__ import annotations

from datetime import date
from itertools import islice
from typing import NamedTuple

import sqlalchemy as sa

from vaulta.models import Account
from vaulta.services.errors import DomainError
from vaulta.services.ledger import statements
from vaulta.services.unit_of_work import session

MAX_PERIOD_DAYS = 366
# A PDF of more entries would take WeasyPrint longer than a request may (about 10 ms per
# entry); such periods are refused with a 400 that points to a shorter period or the CSV.
MAX_ENTRIES = 2000

_accounts = Account.__table__


class PeriodStatement(NamedTuple):
    date_from: date
    date_to: date
    opening_minor: int
    closing_minor: int
    money_in_minor: int  # the credits' total (positive)
    money_out_minor: int  # the debits' total (positive)
    rows: list[statements.StatementRow]


def check_period(date_from: date, date_to: date) -> None:
    """A period is at least one day, at most ``MAX_PERIOD_DAYS`` (a 400 otherwise)."""
    if date_to < date_from:
        raise DomainError("The period ends before it starts.", field="to")
    if (date_to - date_from).days >= MAX_PERIOD_DAYS:
        raise DomainError(f"Ask for at most {MAX_PERIOD_DAYS} days at a time.", field="to")


def balance_before(account: Account, day: date) -> int:
    """The account's balance at the start of ``day`` (UTC): the stored balance minus the
    account's entries from that day on, found through its indexes."""
    s = session()
    first_id, _ = statements.id_bounds(s, account.id, day, None)
    if first_id is None:
        stored = s.scalar(sa.select(_accounts.c.balance_minor).where(_accounts.c.id == account.id))
        return int(stored or 0)
    return statements.balance_after(s, account.id, first_id - 1)


def period_statement(account: Account, date_from: date, date_to: date) -> PeriodStatement:
    """Every entry of the account dated ``date_from`` to ``date_to`` (both included, UTC
    days), oldest first with running balances, between its opening and closing balances.
    A period of more than ``MAX_ENTRIES`` entries is refused (400)."""
    check_period(date_from, date_to)
    entries = statements.iter_statement(account, date_from=date_from, date_to=date_to)
    rows = list(islice(entries, MAX_ENTRIES + 1))
    if len(rows) > MAX_ENTRIES:
        raise DomainError(
            f"The period has more than {MAX_ENTRIES} entries: ask for a shorter one "
            "or download the CSV.",
            field="from",
        )
    if rows:
        opening = rows[0].balance_minor - rows[0].amount_minor
        closing = rows[-1].balance_minor
    else:
        opening = closing = balance_before(account, date_from)
    money_in = sum(r.amount_minor for r in rows if r.amount_minor > 0)
    money_out = -sum(r.amount_minor for r in rows if r.amount_minor < 0)
    return PeriodStatement(date_from, date_to, opening, closing, money_in, money_out, rows)
