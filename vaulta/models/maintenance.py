"""Maintenance mode: while its one row exists, VAULTA takes no writes (docs/deploy.md).

Stored in the database so that every instance and worker sees the same state; turned on and
off with ``flask vaulta maintenance on|off`` (vaulta/ops/cli.py) and by ``upgrade-safely``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base

MAINTENANCE_ROW_ID = 1
REASON_MAX_LENGTH = 200


class MaintenanceMode(Base):
    """The one row (``id = 1``) that says maintenance is on, why, by whom and until when."""

    __tablename__ = "maintenance_mode"
    __table_args__ = (
        sa.CheckConstraint(f"id = {MAINTENANCE_ROW_ID}", name="single_row"),
        sa.CheckConstraint(f"length(reason) <= {REASON_MAX_LENGTH}", name="reason_length"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(sa.Text)
    started_by: Mapped[str] = mapped_column(sa.Text)
    started_at: Mapped[datetime]
    # The expected end, shown to users and sent as Retry-After; None when unknown.
    ends_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<MaintenanceMode since {self.started_at:%Y-%m-%d %H:%M} {self.reason!r}>"
