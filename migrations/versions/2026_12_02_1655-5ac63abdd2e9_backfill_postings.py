"""backfill postings (ledger v2, backfill)

Issue 16, step 2 of 3 (expand -> backfill -> contract): every transaction that has no
postings yet gets its two: the debit account's ``-amount_minor`` and the credit account's
``+amount_minor``, in the transaction's currency, with ``value_date`` = the UTC date of
its ``created_at`` and ``created_at`` copied. Balances do not change: they already are
credits minus debits, which is now the sum of the postings.

- Batches of ``BATCH`` transaction ids (``id >= lo AND id < hi``), one
  ``INSERT … SELECT`` each, in id order, with a progress line per batch
  ("backfill postings: 300,000 / 1,000,000 transaction ids"); each batch is far inside
  ``MIGRATION_STATEMENT_TIMEOUT`` (about 5 s per batch on a busy 2-core machine). Plain
  SQL on ``sa.table()`` names, no app code. Python reads only the id range (and the
  lowest already-posted id) to plan the batches: a reviewed exception to the rule of
  docs/migrations.md, like ``0f3ce6a1fb07``. 1,000,000 transactions took 72 s in all
  (the three revisions, bench/RESULTS.md).
- Restartable: transactions that already have postings (written by the new code since
  the expand revision, or by an earlier run) are skipped. ``postings`` has no index yet
  (the contract revision builds them), so the check runs only from the lowest
  ``transaction_id`` already in ``postings``: below it no transaction can have any.
- ``flask db upgrade --sql`` (offline) prints one ``INSERT … SELECT`` for all of them.

Downgrade deletes every posting. It refuses (RuntimeError) when that would lose
information, that is when an entry's postings are not exactly the two that its
``transactions`` row implies (a multi-leg entry, a conversion, a fee) or carry a value
date other than its booking date (a backdated entry), unless ``VAULTA_FORCE_DOWNGRADE=1``
is set: then those legs and value dates are lost (the balances stay as they are).

Revision ID: 5ac63abdd2e9
Revises: 50701456f5aa
Create Date: 2026-12-02 16:55:00.000000+00:00

"""

import logging
import os

import sqlalchemy as sa
from alembic import op

revision = "5ac63abdd2e9"
down_revision = "50701456f5aa"
branch_labels = None
depends_on = None

BATCH = 100_000
FORCE = "VAULTA_FORCE_DOWNGRADE"
log = logging.getLogger("alembic.runtime.migration")

transactions = sa.table(
    "transactions",
    sa.column("id", sa.Integer),
    sa.column("debit_account_id", sa.Integer),
    sa.column("credit_account_id", sa.Integer),
    sa.column("amount_minor", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("created_at", sa.DateTime),
)
postings = sa.table(
    "postings",
    sa.column("id", sa.BigInteger),
    sa.column("transaction_id", sa.Integer),
    sa.column("account_id", sa.Integer),
    sa.column("amount_minor", sa.BigInteger),
    sa.column("currency", sa.String),
    sa.column("value_date", sa.Date),
    sa.column("created_at", sa.DateTime),
)
POSTING_COLUMNS = ["transaction_id", "account_id", "amount_minor", "currency", "value_date"]


def _booking_date(dialect: str) -> sa.ColumnElement:
    """``transactions.created_at``'s UTC date (SQLite stores UTC text without an offset)."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone("UTC", transactions.c.created_at), sa.Date)
    return sa.func.date(transactions.c.created_at)


def _insert(dialect: str, where: sa.ColumnElement, *, skip_posted: bool) -> sa.Insert:
    """The two postings of every transaction matching ``where``."""
    t = transactions.c
    if skip_posted:
        already = sa.select(postings.c.transaction_id).where(postings.c.transaction_id == t.id)
        where = sa.and_(where, ~already.exists())
    legs = [
        sa.select(t.id, account, amount, t.currency, _booking_date(dialect), t.created_at).where(
            where
        )
        for account, amount in (
            (t.debit_account_id, -t.amount_minor),
            (t.credit_account_id, t.amount_minor),
        )
    ]
    return postings.insert().from_select([*POSTING_COLUMNS, "created_at"], sa.union_all(*legs))


def upgrade() -> None:
    context = op.get_context()
    dialect = context.dialect.name
    if context.as_sql:
        op.execute(_insert(dialect, sa.true(), skip_posted=True))
        return
    bind = op.get_bind()
    low, high = bind.execute(
        sa.select(sa.func.min(transactions.c.id), sa.func.max(transactions.c.id))
    ).one()
    if low is None:
        log.info("backfill postings: no transactions")
        return
    first_posted = bind.execute(sa.select(sa.func.min(postings.c.transaction_id))).scalar()
    total = high - low + 1
    for start in range(low, high + 1, BATCH):
        end = start + BATCH
        where = sa.and_(transactions.c.id >= start, transactions.c.id < end)
        skip = first_posted is not None and end > first_posted
        bind.execute(_insert(dialect, where, skip_posted=skip))
        done = min(end, high + 1) - low
        log.info("backfill postings: %s / %s transaction ids", f"{done:,}", f"{total:,}")


def _lossy_entries(dialect: str) -> sa.Select:
    """Entries whose postings are not the two their ``transactions`` row implies, on its
    booking date: a downgrade would lose them."""
    t, p = transactions.c, postings.c
    implied = sa.and_(
        p.currency == t.currency,
        p.value_date == _booking_date(dialect),
        sa.or_(
            sa.and_(p.account_id == t.debit_account_id, p.amount_minor == -t.amount_minor),
            sa.and_(p.account_id == t.credit_account_id, p.amount_minor == t.amount_minor),
        ),
    )
    per_entry = (
        sa.select(
            p.transaction_id,
            sa.func.count().label("legs"),
            sa.func.sum(sa.case((implied, 1), else_=0)).label("implied"),
            sa.func.sum(p.amount_minor).label("total"),
        )
        .select_from(postings.join(transactions, t.id == p.transaction_id))
        .group_by(p.transaction_id)
        .subquery()
    )
    return sa.select(per_entry.c.transaction_id).where(
        sa.or_(per_entry.c.legs != 2, per_entry.c.implied != 2, per_entry.c.total != 0)
    )


def downgrade() -> None:
    context = op.get_context()
    if not context.as_sql and os.environ.get(FORCE) != "1":
        lossy = (
            op.get_bind()
            .execute(_lossy_entries(context.dialect.name).order_by("transaction_id").limit(6))
            .scalars()
            .all()
        )
        if lossy:
            listed = ", ".join(str(i) for i in lossy[:5]) + (", …" if len(lossy) > 5 else "")
            raise RuntimeError(
                "downgrade refused: the postings of transaction(s) "
                f"{listed} are not the two their header implies on its booking date "
                "(multi-leg or backdated entries); downgrading would lose them. "
                f"Set {FORCE}=1 to downgrade anyway."
            )
    op.execute(postings.delete())
