"""Writing one checked movement: its transaction row, its two postings, both balances,
its business events (the outbox, vaulta/services/events) and the caller's follow-up write
(the payment it executes), in as few statements as the database allows.

The transaction's id goes into the follow-up (and the caller's audit events), so it comes
first: reserved by the statement that locked the accounts (``RESERVE_TRANSACTION_ID``,
PostgreSQL only), or returned by the transaction's ``INSERT``. Then:

- PostgreSQL: the balances, the two postings, the outbox events and the follow-up (and
  the transaction itself, when its id was reserved) are one statement, each a
  data-modifying ``WITH`` clause. Such clauses run exactly once and to completion, in the
  statement's transaction; they touch different rows, so none needs to see another's.
  Foreign keys are checked at the end of the statement, when the transaction row is there.
- SQLite has no data-modifying ``WITH`` and no sequences: the same writes go one
  statement at a time.

Either way they are the same rows in the caller's database transaction, and an error
rolls every one of them back. The audit events are recorded by the caller
(``audit.record_all``) and inserted, hash-chained, when the transaction commits. Only
``postings.move`` calls this; what may be written was checked there, under the accounts'
locks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from vaulta.models import Account, OutboxEvent, Posting, Transaction, utcnow
from vaulta.models.base import UTCDateTime

ACCOUNTS = Account.__table__
TRANSACTIONS = Transaction.__table__
OUTBOX = OutboxEvent.__table__
OUTBOX_COLUMNS = ("public_id", "type", "occurred_at", "payload")
POSTINGS = Posting.__table__
POSTING_COLUMNS = (
    "transaction_id",
    "account_id",
    "amount_minor",
    "currency",
    "value_date",
    "created_at",
)

TRANSACTION_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount_minor",
    "currency",
    "kind",
    "description",
    "reference",
    "reverses_id",
    "created_by_id",
    "idempotency_key",
    "created_at",
)
INSERT_TRANSACTION = sa.insert(TRANSACTIONS).returning(TRANSACTIONS.c.id)
# Both balances in one statement: the debit loses the amount, the credit gains it; the
# debit's held amount drops by ``unheld`` (a hold the follow-up captures; usually 0).
MOVE_BALANCES = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.id.in_([sa.bindparam("debit"), sa.bindparam("credit")]))
    .values(
        balance_minor=ACCOUNTS.c.balance_minor
        + sa.case(
            (ACCOUNTS.c.id == sa.bindparam("credit"), sa.bindparam("amount")),
            else_=-sa.bindparam("amount"),
        ),
        held_minor=ACCOUNTS.c.held_minor
        - sa.case(
            (ACCOUNTS.c.id == sa.bindparam("debit"), sa.bindparam("unheld", type_=sa.BigInteger)),
            else_=0,
        ),
    )
)


class _NextTransactionId(FunctionElement[int]):
    """The next id of ``transactions`` (PostgreSQL's sequence); NULL on SQLite."""

    type = sa.BigInteger()
    inherit_cache = True


@compiles(_NextTransactionId)
def _no_sequence(_element: _NextTransactionId, _compiler: SQLCompiler, **_kw: object) -> str:
    return "NULL"


@compiles(_NextTransactionId, "postgresql")
def _sequence(_element: _NextTransactionId, _compiler: SQLCompiler, **_kw: object) -> str:
    return "nextval(pg_get_serial_sequence('transactions', 'id'))"


# A column for the statement that locks a movement's accounts: an id reserved for its
# transaction (once per statement, whatever the rows), or NULL where there is none.
RESERVE_TRANSACTION_ID = sa.select(_NextTransactionId()).scalar_subquery()


@dataclass(frozen=True)
class FollowUp:
    """The caller's own write, made with the movement: ``statement`` run with ``params``
    plus ``new_transaction_id`` (the new transaction's id); keys it does not bind are
    not passed. It sets its table's ``onupdate`` columns itself (in a ``WITH`` clause
    SQLAlchemy cannot fill them in), and no parameter may be named like a column of a
    table the statement writes: SQLAlchemy would add it to that table's ``SET``.
    ``_one_statement`` refuses such names."""

    statement: sa.Update
    params: Mapping[str, object]
    # More writes of other tables with the same parameters (a captured hold), and the
    # amount by which they lower the debit account's ``held_minor`` (the balance update
    # lowers it: an account's row is written once per statement).
    also: tuple[sa.Update, ...] = ()
    unheld_minor: int = 0

    @property
    def statements(self) -> tuple[sa.Update, ...]:
        return (self.statement, *self.also)


def write_movement(
    conn: Connection,
    row: Mapping[str, object],
    *,
    follow_up: FollowUp | None = None,
    outbox: Callable[[int], Sequence[Mapping[str, object]]] | None = None,
    value_date: date | None = None,
) -> int:
    """Insert the transaction ``row`` and its two postings (debit negative, credit
    positive, on ``value_date``: today UTC when None), move both balances, insert the
    outbox rows (``events.event_row``) that ``outbox(transaction_id)`` returns and run
    ``follow_up``.

    ``row["id"]`` is the id reserved for it (``RESERVE_TRANSACTION_ID``) or None. Returns
    the new transaction's id. The balance update must change exactly two rows; anything
    else raises (the caller's transaction then rolls back).
    """
    postgresql = conn.dialect.name == "postgresql"
    reserved = row.get("id") if postgresql else None
    booked_at = utcnow()
    row = {**row, "created_at": booked_at}
    if reserved is None:
        tx_id: int = conn.execute(
            INSERT_TRANSACTION, {k: v for k, v in row.items() if k != "id"}
        ).scalar_one()
    else:
        tx_id = int(reserved)  # type: ignore[call-overload]
    balances = {
        "debit": row["debit_account_id"],
        "credit": row["credit_account_id"],
        "amount": row["amount_minor"],
        "unheld": 0 if follow_up is None else follow_up.unheld_minor,
    }
    legs = _posting_params(tx_id, row, booked_at, value_date or booked_at.date())
    outbox_rows = [] if outbox is None else list(outbox(tx_id))
    follow = {}
    if follow_up is not None:
        given = {**follow_up.params, "new_transaction_id": tx_id}
        wanted = frozenset().union(*(bind_names(each) for each in follow_up.statements))
        follow = {k: given[k] for k in wanted if k in given}
    if postgresql:
        params = dict(balances) | follow | legs
        if reserved is not None:
            params |= {f"t_{key}": row.get(key) for key in TRANSACTION_COLUMNS}
        for i, outbox_row in enumerate(outbox_rows):
            params |= {f"o{i}_{key}": outbox_row[key] for key in OUTBOX_COLUMNS}
        statement = _one_statement(
            follow_up.statements if follow_up is not None else (),
            inserts=reserved is not None,
            outbox=len(outbox_rows),
        )
        changed = conn.execute(statement, params).scalar_one()
    else:
        changed = conn.execute(MOVE_BALANCES, balances).rowcount
        conn.execute(INSERT_POSTINGS, _posting_rows(balances | legs))
        if outbox_rows:
            conn.execute(sa.insert(OUTBOX), outbox_rows)
        for each in follow_up.statements if follow_up is not None else ():
            conn.execute(each, {k: v for k, v in follow.items() if k in bind_names(each)})
    if changed != 2:
        raise RuntimeError(f"transaction {tx_id} changed {changed} balances, not 2")
    return tx_id


def _posting_params(
    tx_id: int, row: Mapping[str, object], booked_at: datetime, value_date: date
) -> dict[str, object]:
    """The bound parameters of the two postings (``debit``, ``credit`` and ``amount``
    are the balance update's)."""
    return {
        "p_transaction_id": tx_id,
        "p_currency": row["currency"],
        "p_value_date": value_date,
        "p_booked_at": booked_at,
    }


def _posting_rows(legs: Mapping[str, object]) -> list[dict[str, object]]:
    """SQLite: the two postings as rows (the same values as ``_postings_insert``)."""
    amount = int(legs["amount"])  # type: ignore[call-overload]
    common = {
        "transaction_id": legs["p_transaction_id"],
        "currency": legs["p_currency"],
        "value_date": legs["p_value_date"],
        "created_at": legs["p_booked_at"],
    }
    return [
        common | {"account_id": legs["debit"], "amount_minor": -amount},
        common | {"account_id": legs["credit"], "amount_minor": amount},
    ]


INSERT_POSTINGS = sa.insert(POSTINGS)


def _postings_insert() -> sa.Insert:
    """PostgreSQL: ``INSERT … SELECT`` of the debit's (negative) and the credit's
    (positive) posting, from the balance update's parameters."""
    amount = sa.bindparam("amount", type_=sa.BigInteger())
    legs = [
        sa.select(
            sa.bindparam("p_transaction_id", type_=sa.Integer()),
            sa.bindparam(account, type_=sa.Integer()),
            signed,
            sa.bindparam("p_currency", type_=sa.String(3)),
            sa.bindparam("p_value_date", type_=sa.Date()),
            sa.bindparam("p_booked_at", type_=UTCDateTime()),
        )
        for account, signed in (("debit", -amount), ("credit", amount))
    ]
    return sa.insert(POSTINGS).from_select(list(POSTING_COLUMNS), sa.union_all(*legs))


@lru_cache(maxsize=32)
def _one_statement(
    follow_ups: tuple[sa.Update, ...], *, inserts: bool, outbox: int = 0
) -> sa.Select:
    """PostgreSQL: the transaction (when ``inserts``: its id was reserved), its postings,
    the balances, ``outbox`` business events and the follow-up as one statement that
    returns how many balances changed. Built once per shape (bound parameters only), so
    SQLAlchemy compiles it once and psycopg prepares it."""
    balances = MOVE_BALANCES.returning(ACCOUNTS.c.id).cte("moved_balances")
    statement = sa.select(sa.func.count()).select_from(balances)
    statement = statement.add_cte(_postings_insert().cte("new_postings"))
    if inserts:
        values = {
            c: sa.bindparam(f"t_{c}", type_=TRANSACTIONS.c[c].type) for c in TRANSACTION_COLUMNS
        }
        statement = statement.add_cte(sa.insert(TRANSACTIONS).values(values).cte("new_transaction"))
    if outbox:
        statement = statement.add_cte(_outbox_insert(outbox).cte("outbox_rows"))
    written = [ACCOUNTS, OUTBOX, POSTINGS, TRANSACTIONS]
    for i, follow_up in enumerate(follow_ups):
        statement = statement.add_cte(follow_up.cte("follow_up" if i == 0 else f"follow_up_{i}"))
        written.append(follow_up.table)  # type: ignore[arg-type]
    clashes = bind_names(statement) & {c.key for table in written for c in table.columns}
    if clashes:
        raise ValueError(f"parameters named like columns they would overwrite: {sorted(clashes)}")
    return statement


@lru_cache(maxsize=64)
def bind_names(statement: sa.Executable) -> frozenset[str]:
    """The names of ``statement``'s named bound parameters (not its anonymous ones)."""
    return frozenset(
        element.key
        for element in sa.sql.visitors.iterate(statement)
        if isinstance(element, sa.BindParameter) and not element.unique
    )


def _outbox_insert(count: int) -> sa.Insert:
    """``INSERT … SELECT … UNION ALL SELECT …`` of ``count`` outbox rows: unlike a
    multi-row ``VALUES``, SQLAlchemy caches its compiled form."""
    rows = [
        sa.select(*(sa.bindparam(f"o{i}_{c}", type_=OUTBOX.c[c].type) for c in OUTBOX_COLUMNS))
        for i in range(count)
    ]
    source = rows[0] if count == 1 else sa.union_all(*rows)
    return sa.insert(OUTBOX).from_select(list(OUTBOX_COLUMNS), source)
