"""add monthly statements

The PDF statement of one account for one past calendar month, kept as issued on its first
request (bytes, SHA-256 and size) so every later download is the same document. The
unique constraint ``uq_monthly_statements_account_id_month`` keeps one document when two
first requests race. A new table only: nothing existing is rewritten or locked beyond the
foreign keys to ``accounts`` and ``users``.

Downgrade drops the table; the statements are then produced again on request.

Revision ID: cb619078af99
Revises: 0f3ce6a1fb07
Create Date: 2026-12-02 09:57:28.630152+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "cb619078af99"
down_revision = "0f3ce6a1fb07"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "monthly_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_monthly_statements_sha256_hex")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_monthly_statements_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_monthly_statements_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_statements")),
        sa.UniqueConstraint("account_id", "month", name="uq_monthly_statements_account_id_month"),
    )


def downgrade():
    op.drop_table("monthly_statements")
