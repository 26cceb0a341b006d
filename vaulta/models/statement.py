"""Monthly statements as issued: the PDF of one account's calendar month, kept as sent."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, CreatedAtMixin


class MonthlyStatement(CreatedAtMixin, Base):
    """The PDF statement of one account for one past month, produced on its first request.

    A past month's entries never change (posted entries are never edited; a correction is
    a new entry dated when it is made), so the stored bytes are what every later download
    gets; ``sha256`` lets anyone check them. The unique (account_id, month) constraint makes
    two concurrent first requests keep one document.
    """

    __tablename__ = "monthly_statements"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "month", name="uq_monthly_statements_account_id_month"),
        sa.CheckConstraint("length(sha256) = 64", name="sha256_hex"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    month: Mapped[date] = mapped_column(sa.Date)  # the month's first day
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))  # of ``pdf``, hex
    size_bytes: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
