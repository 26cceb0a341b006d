"""link executed payments to their transactions

Data migration. Before payments.transaction_id existed, executing a payment posted a
transaction of kind 'payment' whose reference is 'PAY-<payment id>'. This fills
transaction_id for executed payments from that reference (SQL only, no app models).
Downgrade clears exactly the links this revision can rebuild; the references remain.

Revision ID: 7f3a5b6c8d9e
Revises: 2c7d8e9f0a1b
Create Date: 2026-11-12 11:30:00+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7f3a5b6c8d9e"
down_revision = "2c7d8e9f0a1b"
branch_labels = None
depends_on = None

payments = sa.table(
    "payments",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("transaction_id", sa.Integer),
)
transactions = sa.table(
    "transactions",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("reference", sa.String),
)


def _reference_of_payment() -> sa.ColumnElement:
    return sa.literal("PAY-") + sa.cast(payments.c.id, sa.String)


def upgrade():
    posted = (
        sa.select(sa.func.min(transactions.c.id))
        .where(
            transactions.c.kind == "payment",
            transactions.c.reference == _reference_of_payment(),
        )
        .scalar_subquery()
    )
    op.execute(
        payments.update()
        .where(payments.c.status == "executed", payments.c.transaction_id.is_(None))
        .values(transaction_id=posted)
    )


def downgrade():
    linked = sa.select(transactions.c.id).where(
        transactions.c.kind == "payment",
        transactions.c.reference == _reference_of_payment(),
    )
    op.execute(
        payments.update().where(payments.c.transaction_id.in_(linked)).values(transaction_id=None)
    )
