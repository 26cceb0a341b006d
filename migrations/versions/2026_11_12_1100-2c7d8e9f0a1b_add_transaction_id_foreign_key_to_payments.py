"""add transaction_id foreign key to payments

An executed payment points at the ledger transaction its execution posted; a unique
constraint makes "executed exactly once" structural (one transaction per payment).

Revision ID: 2c7d8e9f0a1b
Revises: 9e41c3d27a6b
Create Date: 2026-11-12 11:00:00+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "2c7d8e9f0a1b"
down_revision = "9e41c3d27a6b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transaction_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_payments_transaction_id"), ["transaction_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_transaction_id_transactions"),
            "transactions",
            ["transaction_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payments_transaction_id_transactions"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_payments_transaction_id"), type_="unique")
        batch_op.drop_column("transaction_id")
