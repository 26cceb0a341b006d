"""Large exports prepared in the background: who asked for what, and the file once written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, CreatedAtMixin, in_list

EXPORT_TRANSACTIONS = "transactions"
EXPORT_AUDIT_LOG = "audit_log"
EXPORT_INBOX = "inbox"
EXPORT_MY_REQUESTS = "my_requests"
EXPORT_KINDS = (EXPORT_TRANSACTIONS, EXPORT_AUDIT_LOG, EXPORT_INBOX, EXPORT_MY_REQUESTS)
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_QUEUED = "queued"
EXPORT_RUNNING = "running"
EXPORT_DONE = "done"
EXPORT_FAILED = "failed"
EXPORT_EXPIRED = "expired"
EXPORT_STATUSES = (EXPORT_QUEUED, EXPORT_RUNNING, EXPORT_DONE, EXPORT_FAILED, EXPORT_EXPIRED)


class ExportJob(CreatedAtMixin, Base):
    """One export too large to stream at once (vaulta/exports/): the requester, the kind,
    the filters as given, the format; a worker writes the file (``file_name`` under
    ``EXPORT_DIR``) and its row count, and the hourly purge deletes it after ``expires_at``
    (the row stays, ``expired``, as the record of what was exported)."""

    __tablename__ = "export_jobs"
    __table_args__ = (
        sa.CheckConstraint(in_list("kind", EXPORT_KINDS), name="kind"),
        sa.CheckConstraint(in_list("file_format", EXPORT_FORMATS), name="file_format"),
        sa.CheckConstraint(in_list("status", EXPORT_STATUSES), name="status"),
        sa.CheckConstraint(
            "status <> 'done' OR (file_name IS NOT NULL AND row_count IS NOT NULL"
            " AND expires_at IS NOT NULL)",
            name="done_has_file",
        ),
        sa.Index("ix_export_jobs_requested_by_id_created_at", "requested_by_id", "created_at"),
        sa.Index("ix_export_jobs_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    file_format: Mapped[str] = mapped_column(sa.String(8))
    filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default=EXPORT_QUEUED)
    row_count: Mapped[int | None]
    file_name: Mapped[str | None] = mapped_column(sa.String(80))  # under EXPORT_DIR
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    error: Mapped[str | None] = mapped_column(sa.String(200))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
