"""add standing orders and their runs

``standing_orders``: a customer's recurring payment (weekly or monthly from a first date,
optional end date or count), its status (active, paused, cancelled, completed) and next due
date, indexed by (status, next_due_date) for the runner's scan. ``standing_order_runs``: one
row per order and due date (``uq_standing_order_runs_standing_order_id_due_date`` makes each
run happen once), the payment it made or the error, and whether the failure mail went out.
Two new, empty tables: nothing existing is rewritten or locked.

Downgrade drops both tables (the orders and their history with them).

Revision ID: 3645e4ab337c
Revises: 69d49496f142
Create Date: 2026-12-02 13:57:54.830559+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3645e4ab337c"
down_revision = "69d49496f142"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "standing_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("from_account_id", sa.Integer(), nullable=False),
        sa.Column("to_account_id", sa.Integer(), nullable=True),
        sa.Column("beneficiary_name", sa.String(length=140), nullable=True),
        sa.Column("beneficiary_iban", sa.String(length=34), nullable=True),
        sa.Column("beneficiary_bic", sa.String(length=11), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=140), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("max_runs", sa.Integer(), nullable=True),
        sa.Column("runs_done", sa.Integer(), nullable=False),
        sa.Column("next_due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "frequency IN ('weekly', 'monthly')", name=op.f("ck_standing_orders_frequency_known")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'cancelled', 'completed')",
            name=op.f("ck_standing_orders_status_known"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_standing_orders_amount_positive")),
        sa.CheckConstraint(
            "end_date IS NULL OR end_date >= first_date",
            name=op.f("ck_standing_orders_end_after_first"),
        ),
        sa.CheckConstraint(
            "max_runs IS NULL OR max_runs > 0", name=op.f("ck_standing_orders_max_runs_positive")
        ),
        sa.CheckConstraint(
            "runs_done >= 0", name=op.f("ck_standing_orders_runs_done_not_negative")
        ),
        sa.CheckConstraint(
            "to_account_id IS NOT NULL OR (beneficiary_name IS NOT NULL AND beneficiary_iban IS NOT NULL)",
            name=op.f("ck_standing_orders_beneficiary"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_standing_orders_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_standing_orders_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["accounts.id"],
            name=op.f("fk_standing_orders_from_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["accounts.id"],
            name=op.f("fk_standing_orders_to_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standing_orders")),
    )
    with op.batch_alter_table("standing_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_standing_orders_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_standing_orders_status_next_due_date", ["status", "next_due_date"], unique=False
        )

    op.create_table(
        "standing_order_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("standing_order_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mail_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('created', 'failed', 'skipped')",
            name=op.f("ck_standing_order_runs_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_standing_order_runs_payment_id_payments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["standing_order_id"],
            ["standing_orders.id"],
            name=op.f("fk_standing_order_runs_standing_order_id_standing_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standing_order_runs")),
        sa.UniqueConstraint(
            "standing_order_id",
            "due_date",
            name=op.f("uq_standing_order_runs_standing_order_id_due_date"),
        ),
    )
    with op.batch_alter_table("standing_order_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_standing_order_runs_status_mailed_at", ["status", "mailed_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("standing_order_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_standing_order_runs_status_mailed_at")

    op.drop_table("standing_order_runs")
    with op.batch_alter_table("standing_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_standing_orders_status_next_due_date")
        batch_op.drop_index(batch_op.f("ix_standing_orders_customer_id"))

    op.drop_table("standing_orders")
