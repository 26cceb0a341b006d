"""Account statements: transactions with a running balance, by page or streamed for export.

Both read the account's transactions through the two indexes
``ix_transactions_debit_account_id_id`` and ``ix_transactions_credit_account_id_id``:
each side is an index range scan in id order, merged with ``UNION ALL``. The running
balance is anchored on the stored balance: the balance after transaction ``t`` is the
account balance minus the signed amounts of the account's transactions with ``id > t``.

A page is one statement: the account (with its customer, for the admin page), the anchor
and the rows are read together, in one snapshot. The newest page needs no aggregate at
all (the anchor is the stored balance); an older page sums the account's transactions
from its cursor on (indexed). Nothing ever scans or windows over the whole history of the
account for one page. Rows are plain named tuples, not ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, FxConversion, Transaction
from vaulta.models.account import BANK_KINDS
from vaulta.models.transaction import TX_CONVERSION
from vaulta.services.errors import NotFound
from vaulta.services.unit_of_work import session

EXPORT_CHUNK = 1000

_t = Transaction.__table__
_accounts = Account.__table__
_customers = Customer.__table__
_fx = FxConversion.__table__


def _fx_fact(column: sa.Column[Any]) -> sa.ScalarSelect[Any]:
    """The transaction's FX fact (a conversion's to-amount or to-currency)."""
    return sa.select(column).where(_fx.c.transaction_id == _t.c.id).scalar_subquery()


# What the credited account receives: the header's amount, except for a conversion, whose
# to-account receives its fx_conversions.to_amount_minor in the to-currency (the header is
# the principal movement in the from-currency, vaulta/services/ledger/fx/).
CREDITED = sa.case(
    (_t.c.kind == TX_CONVERSION, _fx_fact(_fx.c.to_amount_minor)), else_=_t.c.amount_minor
)


class StatementRow(NamedTuple):
    """One line of a statement from the account's point of view."""

    id: int  # the transaction's id
    created_at: datetime
    kind: str
    description: str
    reference: str | None
    currency: str
    counterparty: str  # the other account's number
    amount_minor: int  # signed: credits to this account are positive, debits negative
    balance_minor: int  # the running balance after this transaction


class StatementPage(NamedTuple):
    rows: list[StatementRow]
    next_before_id: int | None  # the cursor of the next (older) page; None on the last page


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

    @property
    def is_system(self) -> bool:
        return self.kind in BANK_KINDS


@lru_cache(maxsize=4)
def _rows_query(newest_first: bool, has_above: bool, has_below: bool) -> sa.Select:
    """Up to ``limit`` of the account's transactions with ``above < id < below``, ordered
    by id, as (id, created_at, kind, description, reference, currency, counterparty,
    signed amount). Built once per shape; values are bound parameters (account_id, limit,
    above, below)."""
    account_id = sa.bindparam("account_id", type_=sa.Integer)
    limit = sa.bindparam("limit", type_=sa.Integer)

    def side(own: sa.Column[int], other: sa.Column[int], credit: bool) -> sa.Select:
        signed = CREDITED if credit else -_t.c.amount_minor
        query = sa.select(
            _t.c.id.label("id"), signed.label("signed"), other.label("counterparty_id")
        ).where(own == account_id)
        if has_above:
            query = query.where(_t.c.id > sa.bindparam("above", type_=sa.Integer))
        if has_below:
            query = query.where(_t.c.id < sa.bindparam("below", type_=sa.Integer))
        order = _t.c.id.desc() if newest_first else _t.c.id.asc()
        return sa.select(query.order_by(order).limit(limit).subquery())

    both = sa.union_all(
        side(_t.c.debit_account_id, _t.c.credit_account_id, credit=False),
        side(_t.c.credit_account_id, _t.c.debit_account_id, credit=True),
    ).subquery()
    order = both.c.id.desc() if newest_first else both.c.id.asc()
    page = sa.select(both).order_by(order).limit(limit).subquery()
    counterparty = _accounts.alias("counterparty")
    return (
        sa.select(
            _t.c.id,
            _t.c.created_at,
            _t.c.kind,
            _t.c.description,
            _t.c.reference,
            sa.case(
                (
                    sa.and_(_t.c.kind == TX_CONVERSION, page.c.signed > 0),
                    _fx_fact(_fx.c.to_currency),
                ),
                else_=_t.c.currency,
            ).label("currency"),
            counterparty.c.number.label("counterparty"),
            page.c.signed,
        )
        .join_from(_t, page, _t.c.id == page.c.id)
        .join(counterparty, counterparty.c.id == page.c.counterparty_id)
        .order_by(_t.c.id.desc() if newest_first else _t.c.id.asc())
    )


def _signed_sum_from(
    account_id: sa.ColumnElement[int], first: sa.ColumnElement[int]
) -> sa.ColumnElement[int]:
    """Credits minus debits of the account's transactions with ``id >= first`` (indexed)."""

    def total(column: sa.Column[int]) -> sa.ScalarSelect[int]:
        amount = CREDITED if column is _t.c.credit_account_id else _t.c.amount_minor
        return (
            sa.select(sa.func.coalesce(sa.func.sum(amount), 0))
            .where(column == account_id, _t.c.id >= first)
            .scalar_subquery()
        )

    return sa.cast(total(_t.c.credit_account_id) - total(_t.c.debit_account_id), sa.BigInteger)


def balance_after(s: Session, account_id: int, transaction_id: int) -> int:
    """The account's balance right after ``transaction_id`` was posted."""
    params = {"account_id": account_id, "first": transaction_id + 1}
    return int(s.scalar(_balance_query(), params) or 0)


@lru_cache(maxsize=1)
def _balance_query() -> sa.Select:
    """``balance_after``'s statement, built once (bound parameters: account_id, first)."""
    account_id = sa.bindparam("account_id", type_=sa.Integer)
    newer = _signed_sum_from(account_id, sa.bindparam("first", type_=sa.Integer))
    return sa.select(_accounts.c.balance_minor - newer).where(_accounts.c.id == account_id)


def _walk(fetched: Iterable[Any], start: int, *, newest_first: bool) -> list[StatementRow]:
    """Rows with their running balance: ``start`` is the balance after the newest row
    (newest first) or the balance before the oldest row (oldest first)."""
    rows = []
    balance = start
    for tx_id, created_at, kind, description, reference, currency, number, signed in fetched:
        signed = int(signed)
        if not newest_first:
            balance += signed
        rows.append(
            StatementRow(
                tx_id, created_at, kind, description, reference, currency, number, signed, balance
            )
        )
        if newest_first:
            balance -= signed
    return rows


def account_statement(
    account_id: int, *, before_id: int | None, limit: int
) -> tuple[AccountFacts, StatementPage]:
    """Any account (for admins) with one page of its statement, newest first, older than
    ``before_id`` when given. An unknown account is ``NotFound``.

    One statement reads the account, its customer, the anchor and the page, so the
    balance shown and the running balances agree."""
    params = {"account_id": account_id, "limit": limit + 1, "below": before_id}
    fetched = session().execute(_account_query(before_id is not None), params).all()
    if not fetched:
        raise NotFound("No such account.")
    head = fetched[0]
    customer = CustomerFacts(*head[7:10]) if head.customer_id is not None else None
    account = AccountFacts(*head[:7], customer)
    if head[_ROWS_FROM] is None:  # no transactions (older than before_id)
        return account, StatementPage([], None)
    rows = _walk((r[_ROWS_FROM:] for r in fetched[:limit]), head.anchor, newest_first=True)
    return account, StatementPage(rows, rows[-1].id if len(fetched) > limit else None)


def statement_page(account: Account, *, before_id: int | None, limit: int) -> StatementPage:
    """One page of the statement, newest first, older than ``before_id`` when given."""
    return account_statement(account.id, before_id=before_id, limit=limit)[1]


_ROWS_FROM = 11


@lru_cache(maxsize=2)
def _account_query(has_below: bool) -> sa.Select:
    """``account_statement``'s statement: on every row the account's 7 columns, the
    customer's 3, the anchor, then from ``_ROWS_FROM`` on the page's columns (NULL when
    the page is empty). Built once per shape."""
    a, c = _accounts, _customers
    page = _rows_query(True, False, has_below).order_by(None).subquery()
    anchor: sa.ColumnElement[int] = a.c.balance_minor
    if has_below:
        below = sa.bindparam("below", type_=sa.Integer)
        anchor = anchor - _signed_sum_from(sa.bindparam("account_id", type_=sa.Integer), below)
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
            *page.c,
        )
        .select_from(a)
        .outerjoin(c, c.c.id == a.c.customer_id)
        .outerjoin(page, sa.true())
        .where(a.c.id == sa.bindparam("account_id", type_=sa.Integer))
        .order_by(page.c.id.desc())
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def id_bounds(
    s: Session, account_id: int, date_from: date | None, date_to: date | None
) -> tuple[int | None, int | None]:
    """The first and last of the account's transaction ids inside the date range."""

    def edge(column: sa.Column[int], first: bool) -> sa.ScalarSelect[int]:
        query = sa.select(sa.func.min(_t.c.id) if first else sa.func.max(_t.c.id)).where(
            column == account_id
        )
        if date_from is not None:
            query = query.where(_t.c.created_at >= _day_start(date_from))
        if date_to is not None:
            query = query.where(_t.c.created_at < _day_start(date_to + timedelta(days=1)))
        return query.scalar_subquery()

    firsts = s.execute(
        sa.select(
            edge(_t.c.debit_account_id, True),
            edge(_t.c.credit_account_id, True),
            edge(_t.c.debit_account_id, False),
            edge(_t.c.credit_account_id, False),
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
    first_id, last_id = id_bounds(s, account.id, date_from, date_to)
    if first_id is None or last_id is None:
        return
    balance = balance_after(s, account.id, first_id - 1)
    query = _rows_query(False, True, True)
    params = {"account_id": account.id, "limit": chunk, "above": first_id - 1}
    params["below"] = last_id + 1
    while True:
        rows = _walk(s.execute(query, params), balance, newest_first=False)
        if not rows:
            return
        yield from rows
        balance = rows[-1].balance_minor
        params["above"] = rows[-1].id
