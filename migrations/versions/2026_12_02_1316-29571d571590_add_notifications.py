"""add notifications

``notifications``: mail to customers (their payment executed or rejected) and approvers (a
payment waiting on them longer than APPROVAL_REMINDER_HOURS) that a background job sends,
at most one per payment and kind (``uq_notifications_payment_id_kind``), with foreign keys
to ``payments`` (cascade) and ``events`` (set null). A new, empty table: nothing existing
is rewritten or locked, so its indexes are built in the same transaction.

Downgrade drops the table (mail not yet sent with it).

Revision ID: 29571d571590
Revises: 3f1c0a7e5b21
Create Date: 2026-12-02 13:16:36.237582+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "29571d571590"
down_revision = "3f1c0a7e5b21"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('payment.executed', 'payment.rejected', 'approval.reminder')",
            name=op.f("ck_notifications_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_notifications_status_known")
        ),
        sa.CheckConstraint(
            "attempt_count >= 0", name=op.f("ck_notifications_attempt_count_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_notifications_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_notifications_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("payment_id", "kind", name="uq_notifications_payment_id_kind"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_event_id", ["event_id"], unique=False)
        batch_op.create_index(
            "ix_notifications_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_status_next_attempt_at")
        batch_op.drop_index("ix_notifications_event_id")

    op.drop_table("notifications")
