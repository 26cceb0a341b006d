"""Account statements: transactions with a running balance, by page or streamed for export.

Both read the account's transactions through the two indexes
``ix_transactions_debit_account_id_id`` and ``ix_transactions_credit_account_id_id``:
each side is an index range scan in id order, merged with ``UNION ALL``. The running
balance is anchored on the stored balance: the balance after transaction ``t`` is the
account balance minus the signed amounts of the account's transactions with ``id > t``
(one indexed aggregate, in the same statement as the balance so both see one snapshot).
Nothing ever scans or windows over the whole history of the account for one page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from vaulta.models import Account, Transaction
from vaulta.services.db import session

EXPORT_CHUNK = 1000


@dataclass(frozen=True)
class StatementRow:
    """One line of a statement from the account's point of view."""

    transaction: Transaction
    amount_minor: int  # signed: credits to this account are positive, debits negative
    counterparty: str  # the other account's number
    description: str
    balance_minor: int  # the running balance after this transaction


@dataclass(frozen=True)
class StatementPage:
    rows: list[StatementRow]
    next_before_id: int | None  # the cursor of the next (older) page; None on the last page


def _fetch(
    s: Session,
    account_id: int,
    *,
    limit: int,
    newest_first: bool,
    above: int | None = None,
    below: int | None = None,
) -> list[tuple[Transaction, int, str]]:
    """Up to ``limit`` of the account's transactions with ``above < id < below``.

    Returns (transaction, signed amount, counterparty number) ordered by id.
    """
    params = {"account_id": account_id, "limit": limit, "above": above, "below": below}
    query = _fetch_query(newest_first, above is not None, below is not None)
    return [(tx, int(signed), number) for tx, signed, number in s.execute(query, params)]


@lru_cache(maxsize=8)
def _fetch_query(newest_first: bool, has_above: bool, has_below: bool) -> sa.Select:
    """The statement of ``_fetch``, built once per shape (values are bound parameters:
    account_id, limit, above, below)."""
    t = Transaction
    account_id, limit = sa.bindparam("account_id"), sa.bindparam("limit", type_=sa.Integer)

    def side(own: sa.ColumnElement[int], other: sa.ColumnElement[int], credit: bool) -> sa.Select:
        signed = t.amount_minor if credit else -t.amount_minor
        query = sa.select(
            t.id.label("id"), signed.label("signed"), other.label("counterparty_id")
        ).where(own == account_id)
        if has_above:
            query = query.where(t.id > sa.bindparam("above"))
        if has_below:
            query = query.where(t.id < sa.bindparam("below"))
        order = t.id.desc() if newest_first else t.id.asc()
        return sa.select(query.order_by(order).limit(limit).subquery())

    both = sa.union_all(
        side(t.debit_account_id, t.credit_account_id, credit=False),
        side(t.credit_account_id, t.debit_account_id, credit=True),
    ).subquery()
    page = (
        sa.select(both)
        .order_by(both.c.id.desc() if newest_first else both.c.id.asc())
        .limit(limit)
        .subquery()
    )
    counterparty = aliased(Account)
    return (
        sa.select(t, page.c.signed, counterparty.number)
        .join(page, t.id == page.c.id)
        .join(counterparty, counterparty.id == page.c.counterparty_id)
        .order_by(t.id.desc() if newest_first else t.id.asc())
    )


def _signed_sum_above(
    account_id: int | sa.ColumnElement[int], above: int | sa.ColumnElement[int]
) -> sa.ColumnElement[int]:
    """Credits minus debits of the account's transactions with ``id > above`` (indexed)."""
    t = Transaction

    def total(column: sa.ColumnElement[int]) -> sa.ScalarSelect[int]:
        return (
            sa.select(sa.func.coalesce(sa.func.sum(t.amount_minor), 0))
            .where(column == account_id, t.id > above)
            .scalar_subquery()
        )

    return sa.cast(total(t.credit_account_id) - total(t.debit_account_id), sa.BigInteger)


def _balance_after(s: Session, account_id: int, transaction_id: int) -> int:
    """The account's balance right after ``transaction_id`` was posted."""
    params = {"account_id": account_id, "above": transaction_id}
    return int(s.scalar(_balance_query(), params) or 0)


@lru_cache(maxsize=1)
def _balance_query() -> sa.Select:
    """``_balance_after``'s statement, built once (bound parameters: account_id, above)."""
    account_id = sa.bindparam("account_id", type_=sa.Integer)
    above = _signed_sum_above(account_id, sa.bindparam("above", type_=sa.Integer))
    return sa.select(Account.balance_minor - above).where(Account.id == account_id)


def _with_balances(
    fetched: list[tuple[Transaction, int, str]], start: int, *, newest_first: bool
) -> list[StatementRow]:
    """Walk the rows: ``start`` is the balance after the newest row (newest first) or the
    balance before the oldest row (oldest first)."""
    rows = []
    balance = start
    for tx, signed, counterparty in fetched:
        if not newest_first:
            balance += signed
        rows.append(StatementRow(tx, signed, counterparty, tx.description, balance))
        if newest_first:
            balance -= signed
    return rows


def statement_page(account: Account, *, before_id: int | None, limit: int) -> StatementPage:
    """One page of the statement, newest first, older than ``before_id`` when given."""
    s = session()
    fetched = _fetch(s, account.id, limit=limit + 1, newest_first=True, below=before_id)
    more = len(fetched) > limit
    fetched = fetched[:limit]
    if not fetched:
        return StatementPage([], None)
    newest = fetched[0][0].id
    rows = _with_balances(fetched, _balance_after(s, account.id, newest), newest_first=True)
    return StatementPage(rows, fetched[-1][0].id if more else None)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _id_bounds(
    s: Session, account_id: int, date_from: date | None, date_to: date | None
) -> tuple[int | None, int | None]:
    """The first and last of the account's transaction ids inside the date range."""
    t = Transaction

    def edge(column: sa.ColumnElement[int], first: bool) -> sa.ScalarSelect[int]:
        query = sa.select(sa.func.min(t.id) if first else sa.func.max(t.id)).where(
            column == account_id
        )
        if date_from is not None:
            query = query.where(t.created_at >= _day_start(date_from))
        if date_to is not None:
            query = query.where(t.created_at < _day_start(date_to + timedelta(days=1)))
        return query.scalar_subquery()

    firsts = s.execute(
        sa.select(
            edge(t.debit_account_id, True),
            edge(t.credit_account_id, True),
            edge(t.debit_account_id, False),
            edge(t.credit_account_id, False),
        )
    ).one()
    lows = [v for v in firsts[:2] if v is not None]
    highs = [v for v in firsts[2:] if v is not None]
    return (min(lows) if lows else None, max(highs) if highs else None)


def iter_statement(
    account: Account,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    chunk: int = EXPORT_CHUNK,
) -> Iterator[StatementRow]:
    """The statement oldest first, with running balance, read in keyset chunks.

    Only one chunk is in memory at a time; the range is fixed (by transaction id) before
    the first chunk, so transactions posted during the export do not shift it.
    """
    s = session()
    first_id, last_id = _id_bounds(s, account.id, date_from, date_to)
    if first_id is None or last_id is None:
        return
    balance = _balance_after(s, account.id, first_id - 1)
    after = first_id - 1
    while True:
        fetched = _fetch(
            s, account.id, limit=chunk, newest_first=False, above=after, below=last_id + 1
        )
        if not fetched:
            return
        rows = _with_balances(fetched, balance, newest_first=False)
        yield from rows
        balance = rows[-1].balance_minor
        after = fetched[-1][0].id
