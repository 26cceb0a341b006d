"""index postings (ledger v2, contract)

Issue 16, step 3 of 3 (expand -> backfill -> contract): the indexes of ``postings``,
built once over the backfilled rows: ``ix_postings_account_id_value_date_id`` (an
account's postings by value date: statements, as-of balances) and
``ix_postings_transaction_id`` (an entry's postings). Nothing is dropped: the columns of
``transactions`` keep their meaning (the entry's principal movement).

Downgrade drops the two indexes.

Revision ID: bfab07c8bd3e
Revises: 5ac63abdd2e9
Create Date: 2026-12-02 17:00:00.000000+00:00

"""

from alembic import op

revision = "bfab07c8bd3e"
down_revision = "5ac63abdd2e9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_postings_account_id_value_date_id",
        "postings",
        ["account_id", "value_date", "id"],
        unique=False,
        if_not_exists=True,
    )
    op.create_index(
        "ix_postings_transaction_id",
        "postings",
        ["transaction_id"],
        unique=False,
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_index("ix_postings_transaction_id", table_name="postings")
    op.drop_index("ix_postings_account_id_value_date_id", table_name="postings")
