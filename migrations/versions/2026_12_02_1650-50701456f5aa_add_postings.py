"""add postings (ledger v2, expand)

Issue 16, step 1 of 3 (expand -> backfill -> contract): the ``postings`` table, the legs
of a journal entry (``transactions`` stays the entry's header). A credit is positive, a
debit negative; ``ck_postings_amount_not_zero``. Its foreign keys
(``fk_postings_transaction_id_transactions``, ``fk_postings_account_id_accounts``) are
created with the empty table. Its two indexes come in the contract revision, after the
backfill has filled it: building an index once is much faster than maintaining it row by
row.

From this revision on, the code writes the postings of every new entry; the backfill
revision writes those of the entries already there.

Downgrade drops the table (run the backfill's downgrade first: it refuses when entries
could not be represented by ``transactions`` alone).

Revision ID: 50701456f5aa
Revises: c4e2a9d7b3f1
Create Date: 2026-12-02 16:50:13.441513+00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "50701456f5aa"
down_revision = "c4e2a9d7b3f1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_postings_amount_not_zero")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_postings_currency_code")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_postings_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.id"],
            name=op.f("fk_postings_transaction_id_transactions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
    )


def downgrade() -> None:
    op.drop_table("postings")
