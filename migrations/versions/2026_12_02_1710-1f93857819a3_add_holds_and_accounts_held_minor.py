"""add holds and accounts held_minor

Holds (issue 16): an amount reserved on an account until captured, released or expired
(``holds``, vaulta/models/hold.py), and ``accounts.held_minor``, the sum of an account's
active holds, kept with them under the account's row lock (a NOT NULL column with a
constant default: metadata only on PostgreSQL >= 11, no table rewrite).

Data: every payment already pending approval gets its hold here (one INSERT … SELECT,
reason ``Payment #<id>``, expiring with the payment), and ``held_minor`` is set from them
(one UPDATE of the accounts that have one), so the pending payments of the book reserve
their amounts from the upgrade on.

Policy: ``hold-release`` (version 1) is seeded: releasing a hold frees a customer's money,
so it is one approver's decision and never in bulk (placing one and capturing one follow
``default`` and the money policies).

Downgrade deletes that policy when no change request refers to it, and drops the column and the table (the holds' history is lost; balances are not
touched: a hold never moved money).

Revision ID: 1f93857819a3
Revises: 9d25696635aa
Create Date: 2026-12-02 16:50:12.414442+00:00

"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "1f93857819a3"
down_revision = "9d25696635aa"
branch_labels = None
depends_on = None


class JSONLiteral(sa.types.TypeDecorator[object]):
    """JSON that offline SQL (``flask db upgrade --sql``) can render as a quoted literal."""

    impl = sa.JSON
    cache_ok = True

    def process_literal_param(self, value: object, dialect: object) -> str:
        return "'" + json.dumps(value).replace("'", "''") + "'"


approval_policies = sa.table(
    "approval_policies",
    sa.column("id", sa.Integer),
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
HOLD_RELEASE_POLICY = {
    "name": "hold-release",
    "description": "Releasing a hold (it frees a customer's money): one approver, "
    "one request at a time (never in bulk).",
    "action": "ledger.hold.release",
    "priority": 10,
    "levels": 1,
    "roles_per_level": [["approver"]],
    "step_up_levels": [],
    "bulk_allowed": False,
}


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status = 'captured' OR captured_minor = 0",
            name=op.f("ck_holds_captured_only_when_captured"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'captured', 'released', 'expired')",
            name=op.f("ck_holds_status_known"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_holds_amount_positive")),
        sa.CheckConstraint(
            "captured_minor >= 0 AND captured_minor <= amount_minor",
            name=op.f("ck_holds_captured_within_amount"),
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_holds_currency_code")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_holds_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_holds_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"],
            ["users.id"],
            name=op.f("fk_holds_ended_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_holds_payment_id_payments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_holds_transaction_id_transactions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_holds_payment_id")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_holds_account_id_active",
            ["account_id"],
            unique=False,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.create_index(
            "ix_holds_expires_at_active",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held_minor", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_accounts_held_not_negative"), "held_minor >= 0"
        )
    _hold_pending_payments()
    now = datetime.now(UTC)
    if op.get_context().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as UTC text without an offset (UTCDateTime)
    op.bulk_insert(
        approval_policies,
        [
            {
                **HOLD_RELEASE_POLICY,
                "version": 1,
                "is_current": True,
                "enabled": True,
                "created_at": now,
            }
        ],
    )


def _hold_pending_payments() -> None:
    """A hold for every payment pending approval, and each account's ``held_minor``."""
    op.execute(
        sa.text(
            "INSERT INTO holds (account_id, amount_minor, currency, reason, expires_at,"
            " status, captured_minor, payment_id, created_by_id, created_at, updated_at)"
            " SELECT from_account_id, amount_minor, currency,"
            " 'Payment #' || CAST(id AS VARCHAR(20)), expires_at, 'active', 0, id,"
            " requested_by_id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
            " FROM payments WHERE status = 'pending_approval' ORDER BY id"
        )
    )
    op.execute(
        sa.text(
            "UPDATE accounts SET held_minor = (SELECT COALESCE(SUM(h.amount_minor), 0)"
            " FROM holds h WHERE h.account_id = accounts.id AND h.status = 'active')"
            " WHERE id IN (SELECT account_id FROM holds WHERE status = 'active')"
        )
    )


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM approval_policies WHERE name = 'hold-release' AND id NOT IN"
            " (SELECT policy_id FROM change_requests WHERE policy_id IS NOT NULL)"
        )
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_accounts_held_not_negative"), type_="check")
        batch_op.drop_column("held_minor")

    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_holds_expires_at_active",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(
            "ix_holds_account_id_active",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.drop_table("holds")
