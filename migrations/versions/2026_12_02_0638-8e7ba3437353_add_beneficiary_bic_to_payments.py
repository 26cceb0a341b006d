"""add beneficiary_bic to payments

The BIC (ISO 9362) a customer may give with an external beneficiary's IBAN. Nullable with
no default: existing payments have none, and adding the column rewrites no rows on
PostgreSQL. Schema only; the downgrade drops the column (and any BICs entered since).

Revision ID: 8e7ba3437353
Revises: d7857d094736
Create Date: 2026-12-02 06:38:36.953519+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "8e7ba3437353"
down_revision = "d7857d094736"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("beneficiary_bic", sa.String(length=11), nullable=True))


def downgrade():
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("beneficiary_bic")
