"""Account statements by value date: postings with a running balance, by page or streamed.

Statements read the account's postings (``postings``, one row per leg of an entry) in
value-date order, ``(value_date, id)``, through ``ix_postings_account_id_value_date_id``:
every page and every export chunk is one index range in that order. The running balance
is anchored on the stored balance (the sum of all the account's postings): the balance
after posting ``p`` is the stored balance minus the account's postings after ``p`` in
value-date order. A backdated entry thus appears among the days it is dated into, and the
balances after it include it.

A page is one statement: the account (with its customer, for the admin page), the anchor
and the rows are read together, in one snapshot. The newest page needs no aggregate at
all (the anchor is the stored balance); an older page sums the account's postings from
its cursor on (one indexed range). Nothing ever scans the whole history of the account for
one page. Rows are plain named tuples, not ORM objects.

A page's cursor (``before_id``) is a posting id of the account; the key it stands for is
that posting's ``(value_date, id)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, Posting, Transaction
from vaulta.models.account import BANK_KINDS
from vaulta.services.errors import NotFound
from vaulta.services.unit_of_work import session

EXPORT_CHUNK = 1000

_t = Transaction.__table__
_p = Posting.__table__
_accounts = Account.__table__
_customers = Customer.__table__


class StatementRow(NamedTuple):
    """One posting of a statement, from the account's point of view."""

    id: int  # the entry's (transaction's) id
    created_at: datetime  # when the entry was booked
    kind: str
    description: str
    reference: str | None
    currency: str
    counterparty: str  # the other account's number (the entry's principal movement)
    amount_minor: int  # signed: credits to this account are positive, debits negative
    balance_minor: int  # the running balance after this posting, in value-date order
    value_date: date
    posting_id: int


class StatementPage(NamedTuple):
    rows: list[StatementRow]
    next_before_id: int | None  # the cursor (a posting id) of the next, older page


class CustomerFacts(NamedTuple):
    id: int
    full_name: str
    customer_number: str


class AccountFacts(NamedTuple):
    """What the admin account page shows about the account, read with its statement."""

    id: int
    number: str
    kind: str
    currency: str
    balance_minor: int
    status: str
    closed_at: datetime | None
    customer: CustomerFacts | None  # None for the bank's system accounts
    held_minor: int = 0  # the sum of its active holds
    overdraft_limit_minor: int = 0

    @property
    def is_system(self) -> bool:
        return self.kind in BANK_KINDS

    @property
    def available_minor(self) -> int:
        """What a debit may use: the balance less active holds plus the overdraft limit."""
        return self.balance_minor - self.held_minor + self.overdraft_limit_minor


_DATE = sa.Date()


def _key() -> sa.Tuple:
    return sa.tuple_(_p.c.value_date, _p.c.id)


def _cursor_date(account_id: sa.BindParameter[int], cursor: sa.BindParameter[int]) -> Any:
    """The value date of the cursor posting, when it is the account's (else NULL: nothing)."""
    return (
        sa.select(_p.c.value_date)
        .where(_p.c.id == cursor, _p.c.account_id == account_id)
        .scalar_subquery()
    )


@lru_cache(maxsize=4)
def _rows_query(newest_first: bool, ranged: bool, has_below: bool) -> sa.Select:
    """Up to ``limit`` of the account's postings in value-date order, as (transaction id,
    created_at, kind, description, reference, currency, counterparty, signed amount,
    value date, posting id). ``ranged``: oldest first after the key (``after_date``,
    ``after``), dated up to ``to_date``, posting ids up to ``last_id`` (an export's fixed
    range); ``has_below``: before the cursor posting ``below``. Built once per shape;
    values are bound parameters."""
    account_id = sa.bindparam("account_id", type_=sa.Integer)
    query = sa.select(
        _p.c.id, _p.c.transaction_id, _p.c.amount_minor, _p.c.value_date, _p.c.currency
    ).where(_p.c.account_id == account_id)
    if ranged:
        after = sa.tuple_(
            sa.bindparam("after_date", type_=_DATE), sa.bindparam("after", type_=sa.Integer)
        )
        query = query.where(
            _key() > after,
            _p.c.value_date <= sa.bindparam("to_date", type_=_DATE),
            _p.c.id <= sa.bindparam("last_id", type_=sa.Integer),
        )
    if has_below:
        below = sa.bindparam("below", type_=sa.Integer)
        query = query.where(_key() < sa.tuple_(_cursor_date(account_id, below), below))
    if newest_first:
        query = query.order_by(_p.c.value_date.desc(), _p.c.id.desc())
    else:
        query = query.order_by(_p.c.value_date, _p.c.id)
    page = query.limit(sa.bindparam("limit", type_=sa.Integer)).subquery()
    counterparty = _accounts.alias("counterparty")
    other = sa.case(
        (_t.c.credit_account_id == account_id, _t.c.debit_account_id),
        else_=_t.c.credit_account_id,
    )
    if newest_first:
        order = (page.c.value_date.desc(), page.c.id.desc())
    else:
        order = (page.c.value_date.asc(), page.c.id.asc())
    return (
        sa.select(
            _t.c.id,
            _t.c.created_at,
            _t.c.kind,
            _t.c.description,
            _t.c.reference,
            page.c.currency,
            counterparty.c.number.label("counterparty"),
            page.c.amount_minor.label("signed"),
            page.c.value_date,
            page.c.id.label("posting_id"),
        )
        .join_from(page, _t, _t.c.id == page.c.transaction_id)
        .join(counterparty, counterparty.c.id == other)
        .order_by(*order)
    )


def sum_from_date(account_id: Any, first_day: Any) -> sa.ScalarSelect[int]:
    """The signed sum of the account's postings dated ``first_day`` or later (indexed)."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(_p.c.amount_minor), 0))
        .where(_p.c.account_id == account_id, _p.c.value_date >= first_day)
        .scalar_subquery()
    )


def _sum_from_cursor(account_id: Any, cursor: Any) -> sa.ScalarSelect[int]:
    """The signed sum of the account's postings from the cursor posting on, in value-date
    order (indexed: the cursor's value date on)."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(_p.c.amount_minor), 0))
        .where(
            _p.c.account_id == account_id,
            _key() >= sa.tuple_(_cursor_date(account_id, cursor), cursor),
        )
        .scalar_subquery()
    )


def opening_and_last_id(s: Session, account_id: int, first_day: date) -> tuple[int, int]:
    """The account's balance before the postings dated ``first_day`` or later (the stored
    balance minus those), and the newest posting id of the book, read in one statement:
    an export fixes its range with it, so entries booked meanwhile do not shift it."""
    account = sa.bindparam("account_id", type_=sa.Integer)
    day = sa.bindparam("day", type_=_DATE)
    query = sa.select(
        sa.cast(_accounts.c.balance_minor - sum_from_date(account, day), sa.BigInteger),
        sa.select(sa.func.coalesce(sa.func.max(_p.c.id), 0)).scalar_subquery(),
    ).where(_accounts.c.id == account)
    found = s.execute(query, {"account_id": account_id, "day": first_day}).one()
    return int(found[0]), int(found[1])


def _walk(fetched: Iterable[Any], start: int, *, newest_first: bool) -> list[StatementRow]:
    """Rows with their running balance: ``start`` is the balance after the newest row
    (newest first) or the balance before the oldest row (oldest first)."""
    rows = []
    balance = start
    for row in fetched:
        signed = int(row[7])
        if not newest_first:
            balance += signed
        rows.append(StatementRow(*row[:7], signed, balance, row[8], row[9]))
        if newest_first:
            balance -= signed
    return rows


def account_statement(
    account_id: int, *, before_id: int | None, limit: int
) -> tuple[AccountFacts, StatementPage]:
    """Any account (for admins) with one page of its statement, newest value date first,
    before the cursor posting ``before_id`` when given. An unknown account is ``NotFound``.

    One statement reads the account, its customer, the anchor and the page, so the
    balance shown and the running balances agree."""
    params = {"account_id": account_id, "limit": limit + 1, "below": before_id}
    fetched = session().execute(_account_query(before_id is not None), params).all()
    if not fetched:
        raise NotFound("No such account.")
    head = fetched[0]
    customer = CustomerFacts(*head[7:10]) if head.customer_id is not None else None
    account = AccountFacts(*head[:7], customer, head.held_minor, head.overdraft_limit_minor)
    if head[_ROWS_FROM] is None:  # no postings (before the cursor)
        return account, StatementPage([], None)
    rows = _walk((r[_ROWS_FROM:] for r in fetched[:limit]), head.anchor, newest_first=True)
    return account, StatementPage(rows, rows[-1].posting_id if len(fetched) > limit else None)


def statement_page(account: Account, *, before_id: int | None, limit: int) -> StatementPage:
    """One page of the statement, newest value date first, before the cursor posting
    ``before_id`` when given."""
    return account_statement(account.id, before_id=before_id, limit=limit)[1]


_ROWS_FROM = 13


@lru_cache(maxsize=2)
def _account_query(has_below: bool) -> sa.Select:
    """``account_statement``'s statement: on every row the account's 7 columns, the
    customer's 3, the anchor, the account's held amount and overdraft limit, then from
    ``_ROWS_FROM`` on the page's columns (NULL when the page is empty). Built once per
    shape."""
    a, c = _accounts, _customers
    page = _rows_query(True, False, has_below).order_by(None).subquery()
    anchor: sa.ColumnElement[int] = a.c.balance_minor
    if has_below:
        account_id = sa.bindparam("account_id", type_=sa.Integer)
        below = sa.bindparam("below", type_=sa.Integer)
        anchor = sa.cast(anchor - _sum_from_cursor(account_id, below), sa.BigInteger)
    return (
        sa.select(
            a.c.id,
            a.c.number,
            a.c.kind,
            a.c.currency,
            a.c.balance_minor,
            a.c.status,
            a.c.closed_at,
            c.c.id.label("customer_id"),
            c.c.full_name,
            c.c.customer_number,
            anchor.label("anchor"),
            a.c.held_minor,
            a.c.overdraft_limit_minor,
            *page.c,
        )
        .select_from(a)
        .outerjoin(c, c.c.id == a.c.customer_id)
        .outerjoin(page, sa.true())
        .where(a.c.id == sa.bindparam("account_id", type_=sa.Integer))
        .order_by(page.c.value_date.desc(), page.c.posting_id.desc())
    )


def iter_statement(
    account: Account,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    chunk: int = EXPORT_CHUNK,
) -> Iterator[StatementRow]:
    """The statement in value-date order (oldest first), postings dated ``date_from`` to
    ``date_to`` (both included; open ends when None), with running balances, read in
    keyset chunks.

    Only one chunk is in memory at a time; the range is fixed (by posting id) before the
    first chunk, so entries booked during the export do not shift it."""
    for rows in _chunks(account, date_from, date_to, chunk):
        yield from rows


def _chunks(
    account: Account, date_from: date | None, date_to: date | None, chunk: int
) -> Iterator[list[StatementRow]]:
    s = session()
    # Without date_from the export reads the whole history anyway; anchoring on the stored
    # balance keeps it right for accounts whose balance predates their postings.
    balance, last_id = opening_and_last_id(s, account.id, date_from or date.min)
    query = _rows_query(False, True, False)
    params: dict[str, Any] = {
        "account_id": account.id,
        "limit": chunk,
        "after_date": date_from or date.min,
        "after": 0,
        "to_date": date_to or date.max,
        "last_id": last_id,
    }
    while True:
        rows = _walk(s.execute(query, params), balance, newest_first=False)
        if not rows:
            return
        yield rows
        balance = rows[-1].balance_minor
        params["after_date"], params["after"] = rows[-1].value_date, rows[-1].posting_id
