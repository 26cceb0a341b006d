"""add payment confirmation and decision fields

Payments now start as ``awaiting_confirmation`` until the customer enters a one-time
passcode, so the status check constraint ``ck_payments_status`` gains that value and the
status column widens from 20 to 24 characters (the new value has 21). New nullable
columns record the workflow: ``confirmed_at`` (passcode entered), ``decided_by_id`` (a
foreign key to users: who rejected, cancelled or failed the payment) with
``decided_at``, and ``failure_reason`` (why an approved payment could not be executed).

Downgrade: the old constraint does not allow ``awaiting_confirmation``, so such payments
(never confirmed, never approved, nothing posted) become ``cancelled`` first; then the
columns and the constraint return to what they were.

Revision ID: 9c4d9b42e4fe
Revises: dc6b111edf33
Create Date: 2026-11-25 15:26:39.786828+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9c4d9b42e4fe"
down_revision = "dc6b111edf33"
branch_labels = None
depends_on = None

OLD_STATUSES = "'pending_approval', 'executed', 'rejected', 'cancelled', 'expired', 'failed'"
NEW_STATUSES = "'awaiting_confirmation', " + OLD_STATUSES

payments = sa.table("payments", sa.column("status", sa.String))


def upgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_payments_status"), type_="check")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=20),
            type_=sa.String(length=24),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payments_status"), f"status IN ({NEW_STATUSES})"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_decided_by_id_users"),
            "users",
            ["decided_by_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    op.execute(
        payments.update()
        .where(payments.c.status == "awaiting_confirmation")
        .values(status="cancelled")
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_payments_decided_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_payments_status"), type_="check")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(length=24),
            type_=sa.String(length=20),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_payments_status"), f"status IN ({OLD_STATUSES})"
        )
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by_id")
        batch_op.drop_column("confirmed_at")
