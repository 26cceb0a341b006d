"""A statement for a period of days by value date: opening balance, every posting dated in
the period, closing balance, totals.

The rows are ``statements.iter_statement``'s (the CSV export's), so a period's running
balances, opening and closing balance are exactly those of the HTML and CSV statements.
The opening balance is the balance before the postings dated ``date_from`` or later,
anchored like every other statement on the stored balance (never a sum over the whole
history); the closing balance is the opening plus the period's postings. They equal
``balances.balance_as_of`` at ``date_from`` 00:00 UTC and at the day after ``date_to``
00:00 UTC (a posting stamped exactly 00:00:00.000000 on its own value date aside: the
as-of rule counts it at that very instant, the statement in its day).
"""

from __future__ import annotations

from datetime import date
from itertools import islice
from typing import NamedTuple

from vaulta.models import Account
from vaulta.services.errors import DomainError
from vaulta.services.ledger import statements
from vaulta.services.unit_of_work import session

MAX_PERIOD_DAYS = 366
# A PDF of more entries would take WeasyPrint longer than a request may (about 10 ms per
# entry); such periods are refused with a 400 that points to a shorter period or the CSV.
MAX_ENTRIES = 2000


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
    """The account's balance by value date at the start of ``day`` (UTC): the stored
    balance minus the account's postings dated ``day`` or later (one index range)."""
    return statements.opening_and_last_id(session(), account.id, day)[0]


def period_statement(account: Account, date_from: date, date_to: date) -> PeriodStatement:
    """Every posting of the account value-dated ``date_from`` to ``date_to`` (both
    included), in value-date order with running balances, between its opening and closing balances.
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
