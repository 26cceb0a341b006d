"""add fx rates, quotes, conversions and fx position accounts

Issue 16 (Ledger v2), the FX part. New empty tables, no lock on existing data:

- ``fx_rates``: the rate registry (base, quote, rate as exact decimal text, source,
  valid from, who imported it); ``uq_fx_rates_base_quote_valid_from`` is also the index
  that finds the rate in force at a time; ``ck_fx_rates_rate_positive``,
  ``ck_fx_rates_distinct_currencies``, ``ck_fx_rates_currency_codes``.
- ``fx_quotes``: quotes offered to customers (random public id, accounts, both amounts,
  rate after spread, market rate, spread, expiry, ``used_at``).
- ``fx_conversions``: one row per ``conversion`` transaction (rate, spread, both amounts,
  its quote, ``uq_fx_conversions_quote_id``).

Existing tables:

- ``accounts``: the kind ``fx_position`` (the bank's FX position per currency, no customer,
  may go negative like ``system``): ``ck_accounts_kind``, ``ck_accounts_owner_matches_kind``
  and ``ck_accounts_within_overdraft`` are re-created to allow it, and
  ``uq_accounts_fx_position_currency`` (partial unique) keeps one per currency.
- ``transactions``: ``ck_transactions_kind`` also allows ``conversion``. On PostgreSQL each
  re-created check scans its table once under the ``ALTER TABLE`` lock (a CHECK on one
  column: about a second for a million transactions; squawk exceptions in
  tests/migrations/test_squawk.py and docs/deploy.md); SQLite rebuilds the tables (batch).
- ``approval_policies``: seeds the policy ``conversions`` (action ``ledger.conversion``,
  0 levels: a customer converting between their own accounts executes at once; the bank
  can require approval by editing it).

Downgrade refuses while ``conversion`` transactions exist (the old kinds cannot represent
them); otherwise it deletes the FX position accounts (empty without conversions), the
``conversions`` policy versions and the three tables, and restores the old checks.

Revision ID: 9d25696635aa
Revises: 51a90ed518e2
Create Date: 2026-12-02 16:51:02.251151+00:00

"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9d25696635aa"
down_revision = "51a90ed518e2"
branch_labels = None
depends_on = None

OLD_TX_KINDS = "'deposit', 'withdrawal', 'transfer', 'payment', 'reversal'"
NEW_TX_KINDS = OLD_TX_KINDS + ", 'conversion'"
OLD_ACCOUNT_CHECKS = {
    "ck_accounts_kind": "kind IN ('customer', 'system')",
    "ck_accounts_owner_matches_kind": "(kind = 'system' AND customer_id IS NULL)"
    " OR (kind = 'customer' AND customer_id IS NOT NULL)",
    "ck_accounts_within_overdraft": "kind = 'system' OR balance_minor >= -overdraft_limit_minor",
}
NEW_ACCOUNT_CHECKS = {
    "ck_accounts_kind": "kind IN ('customer', 'system', 'fx_position')",
    "ck_accounts_owner_matches_kind": "(kind IN ('system', 'fx_position') AND customer_id IS NULL)"
    " OR (kind = 'customer' AND customer_id IS NOT NULL)",
    "ck_accounts_within_overdraft": "kind IN ('system', 'fx_position')"
    " OR balance_minor >= -overdraft_limit_minor",
}
POLICY_NAME = "conversions"
# Offline downgrade SQL (PostgreSQL): the database refuses when it runs it.
REFUSE_IF_CONVERSIONS = (
    "DO $refuse$ BEGIN IF EXISTS (SELECT 1 FROM transactions WHERE kind = 'conversion') "
    "THEN RAISE EXCEPTION 'conversion transactions exist: the old schema cannot represent "
    "them. Not downgrading.'; END IF; END $refuse$"
)


class JSONLiteral(sa.types.TypeDecorator[object]):
    """JSON that offline SQL (``flask db upgrade --sql``) can render as a quoted literal."""

    impl = sa.JSON
    cache_ok = True

    def process_literal_param(self, value: object, dialect: object) -> str:
        return "'" + json.dumps(value).replace("'", "''") + "'"


approval_policies = sa.table(
    "approval_policies",
    sa.column("name", sa.String),
    sa.column("version", sa.Integer),
    sa.column("is_current", sa.Boolean),
    sa.column("enabled", sa.Boolean),
    sa.column("description", sa.String),
    sa.column("action", sa.String),
    sa.column("priority", sa.Integer),
    sa.column("levels", sa.Integer),
    sa.column("roles_per_level", JSONLiteral),
    sa.column("step_up_levels", JSONLiteral),
    sa.column("bulk_allowed", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
accounts = sa.table("accounts", sa.column("kind", sa.String))
transactions = sa.table("transactions", sa.column("kind", sa.String))


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _replace_checks(table: str, checks: dict[str, str]) -> None:
    """Re-create ``table``'s named checks (a batch rebuild on SQLite; on PostgreSQL
    ``DROP`` and ``ADD`` in this transaction: each check is one scan, docs/deploy.md)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, condition in checks.items():
            batch_op.drop_constraint(batch_op.f(name), type_="check")
            batch_op.create_check_constraint(batch_op.f(name), condition)


def _seed_policy() -> None:
    now = datetime.now(UTC)
    if not _postgresql():
        now = now.replace(tzinfo=None)  # stored as UTC text without an offset (UTCDateTime)
    op.bulk_insert(
        approval_policies,
        [
            {
                "name": POLICY_NAME,
                "version": 1,
                "is_current": True,
                "enabled": True,
                "description": "A customer converting between their own accounts: "
                "executes at once (their own money).",
                "action": "ledger.conversion",
                "priority": 0,
                "levels": 0,
                "roles_per_level": [],
                "step_up_levels": [],
                "bulk_allowed": False,
                "created_at": now,
            }
        ],
    )


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("CAST(rate AS NUMERIC) > 0", name=op.f("ck_fx_rates_rate_positive")),
        sa.CheckConstraint("base <> quote", name=op.f("ck_fx_rates_distinct_currencies")),
        sa.CheckConstraint(
            "length(base) = 3 AND length(quote) = 3", name=op.f("ck_fx_rates_currency_codes")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_fx_rates_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint(
            "base", "quote", "valid_from", name="uq_fx_rates_base_quote_valid_from"
        ),
    )
    op.create_table(
        "fx_quotes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("from_account_id", sa.Integer(), nullable=False),
        sa.Column("to_account_id", sa.Integer(), nullable=False),
        sa.Column("from_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("from_currency", sa.String(length=3), nullable=False),
        sa.Column("to_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("to_currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("market_rate", sa.String(length=32), nullable=False),
        sa.Column("spread_bps", sa.Integer(), nullable=False),
        sa.Column("rate_id", sa.Integer(), nullable=False),
        sa.Column("inverted", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("CAST(rate AS NUMERIC) > 0", name=op.f("ck_fx_quotes_rate_positive")),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_fx_quotes_expires_after_created")
        ),
        sa.CheckConstraint(
            "from_account_id <> to_account_id", name=op.f("ck_fx_quotes_distinct_accounts")
        ),
        sa.CheckConstraint("from_amount_minor > 0", name=op.f("ck_fx_quotes_from_amount_positive")),
        sa.CheckConstraint(
            "from_currency <> to_currency", name=op.f("ck_fx_quotes_distinct_currencies")
        ),
        sa.CheckConstraint("spread_bps >= 0", name=op.f("ck_fx_quotes_spread_not_negative")),
        sa.CheckConstraint("to_amount_minor > 0", name=op.f("ck_fx_quotes_to_amount_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_fx_quotes_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_fx_quotes_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["accounts.id"],
            name=op.f("fk_fx_quotes_from_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rate_id"],
            ["fx_rates.id"],
            name=op.f("fk_fx_quotes_rate_id_fx_rates"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["accounts.id"],
            name=op.f("fk_fx_quotes_to_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_quotes")),
    )
    with op.batch_alter_table("fx_quotes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fx_quotes_customer_id_created_at", ["customer_id", "created_at"], unique=False
        )

    op.create_table(
        "fx_conversions",
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.String(length=40), nullable=False),
        sa.Column("from_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("from_currency", sa.String(length=3), nullable=False),
        sa.Column("to_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("to_currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("market_rate", sa.String(length=32), nullable=False),
        sa.Column("spread_bps", sa.Integer(), nullable=False),
        sa.Column("rate_id", sa.Integer(), nullable=False),
        sa.Column("inverted", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "CAST(rate AS NUMERIC) > 0", name=op.f("ck_fx_conversions_rate_positive")
        ),
        sa.CheckConstraint(
            "from_amount_minor > 0", name=op.f("ck_fx_conversions_from_amount_positive")
        ),
        sa.CheckConstraint(
            "from_currency <> to_currency", name=op.f("ck_fx_conversions_distinct_currencies")
        ),
        sa.CheckConstraint("spread_bps >= 0", name=op.f("ck_fx_conversions_spread_not_negative")),
        sa.CheckConstraint(
            "to_amount_minor > 0", name=op.f("ck_fx_conversions_to_amount_positive")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["fx_quotes.id"],
            name=op.f("fk_fx_conversions_quote_id_fx_quotes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["rate_id"],
            ["fx_rates.id"],
            name=op.f("fk_fx_conversions_rate_id_fx_rates"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_fx_conversions_transaction_id_transactions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_fx_conversions")),
        sa.UniqueConstraint("quote_id", name=op.f("uq_fx_conversions_quote_id")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(
            "uq_accounts_fx_position_currency",
            ["currency"],
            unique=True,
            sqlite_where=sa.text("kind = 'fx_position'"),
            postgresql_where=sa.text("kind = 'fx_position'"),
        )

    _replace_checks("accounts", NEW_ACCOUNT_CHECKS)
    _replace_checks("transactions", {"ck_transactions_kind": f"kind IN ({NEW_TX_KINDS})"})
    _seed_policy()


def downgrade() -> None:
    refusal = (
        "conversion transactions exist: the old schema cannot represent them "
        "(four postings of kind conversion). Not downgrading."
    )
    if op.get_context().as_sql:  # offline SQL: the database refuses when it runs it
        if _postgresql():
            op.execute(REFUSE_IF_CONVERSIONS)
    else:
        conversions = op.get_bind().scalar(
            sa.select(sa.func.count())
            .select_from(transactions)
            .where(transactions.c.kind == "conversion")
        )
        if conversions:
            raise RuntimeError(f"{conversions} {refusal}")
    op.execute(approval_policies.delete().where(approval_policies.c.name == POLICY_NAME))
    op.execute(accounts.delete().where(accounts.c.kind == "fx_position"))
    _replace_checks("transactions", {"ck_transactions_kind": f"kind IN ({OLD_TX_KINDS})"})
    _replace_checks("accounts", OLD_ACCOUNT_CHECKS)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_accounts_fx_position_currency",
            sqlite_where=sa.text("kind = 'fx_position'"),
            postgresql_where=sa.text("kind = 'fx_position'"),
        )

    op.drop_table("fx_conversions")
    with op.batch_alter_table("fx_quotes", schema=None) as batch_op:
        batch_op.drop_index("ix_fx_quotes_customer_id_created_at")

    op.drop_table("fx_quotes")
    op.drop_table("fx_rates")
