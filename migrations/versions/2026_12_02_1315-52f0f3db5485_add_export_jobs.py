"""add export jobs

Exports of the transaction search and the audit log with more rows than
``EXPORT_INLINE_MAX_ROWS`` are written by a background job: one row per request with the
requester, the kind, the filters as JSON, the format, the status (queued, running, done,
failed, expired), the row count and the file's name under ``EXPORT_DIR`` once written, and
when it expires. A new table only: nothing existing is rewritten or locked beyond the
foreign key to ``users``; its two indexes are created on the empty table.

Downgrade drops the table; files still under ``EXPORT_DIR`` are then no longer served and
can be deleted.

Revision ID: 52f0f3db5485
Revises: 29571d571590
Create Date: 2026-12-02 13:15:06.558581+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "52f0f3db5485"
down_revision = "29571d571590"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=80), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "file_format IN ('csv', 'xlsx')", name=op.f("ck_export_jobs_file_format")
        ),
        sa.CheckConstraint(
            "kind IN ('transactions', 'audit_log')", name=op.f("ck_export_jobs_kind")
        ),
        sa.CheckConstraint(
            "status <> 'done' OR (file_name IS NOT NULL AND row_count IS NOT NULL"
            " AND expires_at IS NOT NULL)",
            name=op.f("ck_export_jobs_done_has_file"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'expired')",
            name=op.f("ck_export_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_export_jobs_requested_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    op.create_index(
        "ix_export_jobs_requested_by_id_created_at",
        "export_jobs",
        ["requested_by_id", "created_at"],
    )
    op.create_index("ix_export_jobs_status_expires_at", "export_jobs", ["status", "expires_at"])


def downgrade():
    op.drop_index("ix_export_jobs_status_expires_at", table_name="export_jobs")
    op.drop_index("ix_export_jobs_requested_by_id_created_at", table_name="export_jobs")
    op.drop_table("export_jobs")
