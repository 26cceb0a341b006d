"""Monthly PDF statements, kept as issued (table ``monthly_statements``).

A past month's statement is kept (stored with its SHA-256, every later request gets the
stored bytes, so the document is the same however often it is downloaded) only once
nothing can be dated into the month any more: staff may post an entry with a value date
up to ``LEDGER_BACKDATE_DAYS`` back (vaulta/services/ledger/value_dates.py), so a month's
backdating window closes at 00:00 UTC on the day after its last day plus that many days
(``window_closes``). Until then the month's statement is rendered on request, marked
provisional, and not stored; the current month is never stored. Documents kept before
stay as kept. Reads here are Core rows; ``store`` is the one write (one transaction, with
its audit event).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from vaulta.models import Account, MonthlyStatement, User, utcnow
from vaulta.services import audit
from vaulta.services.errors import Conflict, NotFound
from vaulta.services.unit_of_work import session, write_transaction

LISTED_MONTHS = 24

_m = MonthlyStatement.__table__


class StoredStatement(NamedTuple):
    month: date
    pdf: bytes
    sha256: str
    size_bytes: int


class MonthEntry(NamedTuple):
    """A month on the account page: its first and last day, its digest once issued, and
    the day its backdating window closes (before that, its statement is provisional)."""

    month: date
    last_day: date
    sha256: str | None
    kept_from: date

    @property
    def provisional(self) -> bool:
        return self.sha256 is None and utcnow().date() < self.kept_from


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def last_day(month: date) -> date:
    return date.fromordinal(next_month(month).toordinal() - 1)


def window_closes(month: date, backdate_days: int | None = None) -> date:
    """The first day (from 00:00 UTC) on which no entry can be dated into ``month`` any
    more: the day after its last day plus ``backdate_days`` (``LEDGER_BACKDATE_DAYS``
    unless given). From then on its statement is final and kept."""
    if backdate_days is None:
        backdate_days = int(current_app.config["LEDGER_BACKDATE_DAYS"])
    return next_month(month) + timedelta(days=backdate_days)


def is_final(month: date, *, today: date | None = None) -> bool:
    """Whether ``month``'s backdating window has closed (UTC today unless given)."""
    return (today or utcnow().date()) >= window_closes(month)


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the month's first day; anything else is ``NotFound`` (it is a path)."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        return date(int(year), int(month), 1)
    except ValueError:
        raise NotFound("No such statement.") from None


def past_months(opened_at: datetime, *, today: date | None = None) -> list[date]:
    """An account's complete months, newest first (at most ``LISTED_MONTHS``): from the
    month it was opened to the month before ``today``."""
    current = month_start(today or utcnow().date())
    months: list[date] = []
    month = month_start(opened_at.date())
    while month < current:
        months.append(month)
        month = next_month(month)
    return months[::-1][:LISTED_MONTHS]


def check_month(account: Account, month: date) -> None:
    """A month with a statement: complete and not before the account was opened."""
    if not month_start(account.opened_at.date()) <= month < month_start(utcnow().date()):
        raise NotFound("No statement for that month.")


def month_entries(account: Account) -> list[MonthEntry]:
    """The account's past months, newest first, each with its digest if already issued."""
    months = past_months(account.opened_at)
    if not months:
        return []
    account_id = account.id
    rows = session().execute(
        sa.select(_m.c.month, _m.c.sha256).where(
            _m.c.account_id == account_id, _m.c.month >= months[-1]
        )
    )
    digests = {month: digest for month, digest in rows}
    return [MonthEntry(m, last_day(m), digests.get(m), window_closes(m)) for m in months]


def stored(account_id: int, month: date) -> StoredStatement | None:
    row = (
        session()
        .execute(
            sa.select(_m.c.month, _m.c.pdf, _m.c.sha256, _m.c.size_bytes).where(
                _m.c.account_id == account_id, _m.c.month == month
            )
        )
        .first()
    )
    return None if row is None else StoredStatement(row.month, bytes(row.pdf), *row[2:])


def store(account: Account, month: date, pdf: bytes, *, actor: User | None) -> StoredStatement:
    """Keep ``pdf`` as the account's statement for ``month``; when another request stored
    one first, that one is returned instead (the unique constraint decides). ``actor``
    None is the monthly job (vaulta/ops/statements.py). A month whose backdating window is
    still open is never stored (``Conflict``): entries may still be dated into it."""
    check_month(account, month)
    if not is_final(month):
        raise Conflict(
            f"The statement for {month.isoformat()[:7]} is provisional until "
            f"{window_closes(month).isoformat()}: entries may still be dated into that month."
        )
    digest = hashlib.sha256(pdf).hexdigest()
    account_id, number = account.id, account.number
    try:
        with write_transaction() as s:
            s.execute(
                sa.insert(_m).values(
                    account_id=account_id,
                    month=month,
                    pdf=pdf,
                    sha256=digest,
                    size_bytes=len(pdf),
                    created_by_id=audit.actor_id(actor),
                    created_at=utcnow(),
                )
            )
            audit.record(
                s,
                actor=actor,
                action="statement.issued",
                object_type="account",
                object_id=account_id,
                details={"number": number, "month": month.isoformat()[:7], "sha256": digest},
            )
    except IntegrityError:
        kept = stored(account_id, month)
        if kept is None:  # pragma: no cover - the conflict was not the month's row
            raise
        return kept
    return StoredStatement(month, pdf, digest, len(pdf))
