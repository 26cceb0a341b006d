"""add payment batch lines

``payment_batch_lines``: one row per line of an approved payment file (a ``payments.batch``
change request) when it executes: ``executed`` with its payment or ``failed`` with the
reason (``ck_payment_batch_lines_outcome``), at most once per request and line
(``uq_payment_batch_lines_request_id_line_no``) and per payment
(``uq_payment_batch_lines_payment_id``). A new, empty table: nothing existing is rewritten
or locked.

Downgrade drops the table (the lines stay readable in the change requests' JSON).

Revision ID: 69d49496f142
Revises: 6a1d2c9e7b40
Create Date: 2026-12-02 14:00:12.824644+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "69d49496f142"
down_revision = "6a1d2c9e7b40"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "payment_batch_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'executed' AND payment_id IS NOT NULL AND failure_reason IS NULL)"
            " OR (status = 'failed' AND payment_id IS NULL AND failure_reason IS NOT NULL)",
            name=op.f("ck_payment_batch_lines_outcome"),
        ),
        sa.CheckConstraint(
            "status IN ('executed', 'failed')", name=op.f("ck_payment_batch_lines_status")
        ),
        sa.CheckConstraint("line_no >= 1", name=op.f("ck_payment_batch_lines_line_no_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_batch_lines_payment_id_payments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["change_requests.id"],
            name=op.f("fk_payment_batch_lines_request_id_change_requests"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_batch_lines")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_payment_batch_lines_payment_id")),
        sa.UniqueConstraint(
            "request_id", "line_no", name="uq_payment_batch_lines_request_id_line_no"
        ),
    )


def downgrade():
    op.drop_table("payment_batch_lines")
