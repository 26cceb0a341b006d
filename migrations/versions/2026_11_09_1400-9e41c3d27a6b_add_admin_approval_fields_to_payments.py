"""add admin approval fields to payments

Maker-checker: who approved a payment (``admin_approved_by``, a foreign key to users),
when, and why a payment was rejected. All nullable: pending payments have none of them.

Revision ID: 9e41c3d27a6b
Revises: 5b0e7f1a9c2d
Create Date: 2026-11-09 14:00:00+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9e41c3d27a6b"
down_revision = "5b0e7f1a9c2d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admin_approved_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_admin_approved_by_users"),
            "users",
            ["admin_approved_by"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payments_admin_approved_by_users"), type_="foreignkey"
        )
        batch_op.drop_column("rejection_reason")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("admin_approved_by")
