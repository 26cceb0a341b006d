"""index payments by status and expiry

Pending payments are expired whenever the approval queue or a payment is read
(``payments.expire_due``): with an index on (status, expires_at) that check reads only the
rows that are due instead of every open payment. Schema only; the downgrade drops it.

On a large production ``payments`` table, build the index first without blocking writes
(``CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_payments_status_expires_at ON payments
(status, expires_at)``, see docs/deploy.md); this revision then finds it and does nothing.

Revision ID: adecbb4f4996
Revises: 891a0a7132f6
Create Date: 2026-11-25 16:54:43.124495+00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "adecbb4f4996"
down_revision = "891a0a7132f6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payments_status_expires_at",
            ["status", "expires_at"],
            unique=False,
            if_not_exists=True,
        )


def downgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_status_expires_at", if_exists=True)
