"""add transactions.description

Every statement line needs a human-readable text. The column arrives nullable, existing
rows get a description from their kind and reference (a data migration in SQL, no app
models), then the column becomes NOT NULL. Downgrade drops the column.

Revision ID: 5b0e7f1a9c2d
Revises: cd9d96d51db8
Create Date: 2026-11-05 10:00:00+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5b0e7f1a9c2d"
down_revision = "cd9d96d51db8"
branch_labels = None
depends_on = None

transactions = sa.table(
    "transactions",
    sa.column("kind", sa.String),
    sa.column("reference", sa.String),
    sa.column("description", sa.String),
)

KIND_LABELS = {
    "deposit": "Deposit",
    "withdrawal": "Withdrawal",
    "transfer": "Transfer",
    "payment": "Payment",
    "reversal": "Reversal",
}


def backfilled_description() -> sa.ColumnElement:
    """'Deposit' or 'Deposit: <reference>' for a row that predates the column."""
    label = sa.case(KIND_LABELS, value=transactions.c.kind, else_="Transaction")
    return sa.case(
        (transactions.c.reference.is_(None), label),
        else_=sa.func.substr(label + ": " + transactions.c.reference, 1, 200),
    )


def upgrade():
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.String(length=200), nullable=True))

    op.execute(
        transactions.update()
        .where(transactions.c.description.is_(None))
        .values(description=backfilled_description())
    )

    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.alter_column("description", existing_type=sa.String(length=200), nullable=False)


def downgrade():
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_column("description")
