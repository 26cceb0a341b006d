"""Searching posted transactions across accounts: filters, keyset pages, CSV rows, detail.

Pages are newest first and continue from the last id shown (``before_id``), never with
OFFSET, so page 1,000 costs what page 1 costs. Accounts are loaded with the rows (no
query per row); the CSV iterator streams plain rows in chunks (``yield_per``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from vaulta.models import Account, Transaction, User
from vaulta.models.transaction import TRANSACTION_KINDS
from vaulta.money import CURRENCY_EXPONENTS
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.unit_of_work import session, snapshot

MAX_PAGE_SIZE = 200
CSV_CHUNK_ROWS = 500


@dataclass(frozen=True)
class TransactionFilters:
    """What to look for; ``None`` (or empty text) means "any"."""

    account_number: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    kind: str | None = None
    currency: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class TransactionPage:
    rows: list[Transaction]
    next_before_id: int | None  # the cursor for the next (older) page, None on the last page


@dataclass(frozen=True)
class TransactionDetail:
    transaction: Transaction
    posted_by: User
    reversed_by: Transaction | None  # the reversal posted for this transaction
    reverses: Transaction | None  # the transaction this one reverses


def day_start(day: date) -> datetime:
    """The first instant of ``day`` in UTC."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def escape_like(text: str) -> str:
    """``text`` with ``LIKE`` wildcards taken literally (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """A ``LIKE`` pattern matching ``text`` anywhere."""
    return f"%{escape_like(text)}%"


def _check(filters: TransactionFilters) -> None:
    if filters.kind and filters.kind not in TRANSACTION_KINDS:
        raise InvalidInput(f"Unknown transaction kind {filters.kind!r}.", field="kind")
    if filters.currency and filters.currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"Unsupported currency {filters.currency!r}.", field="currency")
    has_amount = filters.min_amount_minor is not None or filters.max_amount_minor is not None
    if has_amount and not filters.currency:
        raise InvalidInput("Choose a currency to search by amount.", field="currency")
    low, high = filters.min_amount_minor, filters.max_amount_minor
    if low is not None and high is not None and low > high:
        raise InvalidInput("The maximum is below the minimum.", field="max_amount")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInput("The end date is before the start date.", field="date_to")


def _conditions(filters: TransactionFilters) -> list[sa.ColumnElement[bool]]:
    _check(filters)
    conditions: list[sa.ColumnElement[bool]] = []
    number = (filters.account_number or "").strip()
    if number:
        # Looked up first: with a constant id the planner knows a busy account (the
        # system account) from a quiet one and picks the right index.
        account_id = session().scalar(sa.select(Account.id).where(Account.number == number))
        if account_id is None:
            return [sa.false()]
        conditions.append(
            sa.or_(
                Transaction.debit_account_id == account_id,
                Transaction.credit_account_id == account_id,
            )
        )
    if filters.date_from:
        conditions.append(Transaction.created_at >= day_start(filters.date_from))
    if filters.date_to:
        conditions.append(Transaction.created_at < day_start(filters.date_to + timedelta(days=1)))
    if filters.min_amount_minor is not None:
        conditions.append(Transaction.amount_minor >= filters.min_amount_minor)
    if filters.max_amount_minor is not None:
        conditions.append(Transaction.amount_minor <= filters.max_amount_minor)
    if filters.kind:
        conditions.append(Transaction.kind == filters.kind)
    if filters.currency:
        conditions.append(Transaction.currency == filters.currency)
    text = (filters.text or "").strip()
    if text:
        conditions.append(Transaction.description.ilike(like_pattern(text), escape="\\"))
    return conditions


def search(
    filters: TransactionFilters, *, before_id: int | None = None, limit: int = 50
) -> TransactionPage:
    """One page of matching transactions, newest first, older than ``before_id`` if given."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    stmt = (
        sa.select(Transaction)
        .where(*_conditions(filters))
        .options(joinedload(Transaction.debit_account), joinedload(Transaction.credit_account))
        .order_by(Transaction.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        stmt = stmt.where(Transaction.id < before_id)
    rows = list(session().scalars(stmt))
    if len(rows) > limit:
        return TransactionPage(rows=rows[:limit], next_before_id=rows[limit - 1].id)
    return TransactionPage(rows=rows, next_before_id=None)


def iter_search(filters: TransactionFilters) -> Iterator[sa.Row[Any]]:
    """Every matching transaction, newest first, as flat rows fetched in chunks.

    Each row has ``id, created_at, kind, debit_number, credit_number, amount_minor,
    currency, description, reference, reverses_id, created_by_email``. The filters are
    checked now (a bad one raises here), the rows are read as the caller iterates.
    """
    debit, credit = aliased(Account), aliased(Account)
    stmt = (
        sa.select(
            Transaction.id,
            Transaction.created_at,
            Transaction.kind,
            debit.number.label("debit_number"),
            credit.number.label("credit_number"),
            Transaction.amount_minor,
            Transaction.currency,
            Transaction.description,
            Transaction.reference,
            Transaction.reverses_id,
            User.email.label("created_by_email"),
        )
        .join(debit, debit.id == Transaction.debit_account_id)
        .join(credit, credit.id == Transaction.credit_account_id)
        .join(User, User.id == Transaction.created_by_id)
        .where(*_conditions(filters))
        .order_by(Transaction.id.desc())
        .execution_options(yield_per=CSV_CHUNK_ROWS)
    )
    return _stream(stmt)


def _stream(stmt: sa.Select[Any]) -> Iterator[sa.Row[Any]]:
    with snapshot() as conn:  # one consistent export, through a server-side cursor
        result = conn.execute(stmt)
        try:
            yield from result
        finally:
            result.close()


def get_detail(transaction_id: int) -> TransactionDetail:
    """A transaction with its accounts, who posted it and its reversal links."""
    s = session()
    found = s.execute(
        sa.select(Transaction, User)
        .join(User, User.id == Transaction.created_by_id)
        .options(
            joinedload(Transaction.debit_account).joinedload(Account.customer),
            joinedload(Transaction.credit_account).joinedload(Account.customer),
        )
        .where(Transaction.id == transaction_id)
    ).one_or_none()
    if found is None:
        raise NotFound("No such transaction.")
    tx, posted_by = found
    reversed_by = s.scalar(sa.select(Transaction).where(Transaction.reverses_id == tx.id))
    reverses = s.get(Transaction, tx.reverses_id) if tx.reverses_id is not None else None
    return TransactionDetail(
        transaction=tx, posted_by=posted_by, reversed_by=reversed_by, reverses=reverses
    )
