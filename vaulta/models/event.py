"""The outbox: business events written in the same transaction as the change they describe.

A row is inserted by ``vaulta.services.events.emit`` inside the caller's write transaction, so
a rolled-back change leaves no event and a committed one is never lost. The webhook
dispatcher (vaulta/services/webhooks/dispatch.py) fans undispatched rows out to the
endpoints that want them and sets ``dispatched_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, utcnow

EVENT_ID_PREFIX = "evt_"


class OutboxEvent(Base):
    """One business event: ``public_id`` (``evt_…``, the id receivers see), type, time, data."""

    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("public_id", name="uq_events_public_id"),
        sa.CheckConstraint("public_id LIKE 'evt\\_%' ESCAPE '\\'", name="public_id_prefixed"),
        sa.CheckConstraint("type LIKE '%_.%_'", name="type_dotted"),
        # The dispatcher's scan: only the (few) rows not yet fanned out are in this index.
        sa.Index(
            "ix_events_undispatched",
            "id",
            postgresql_where=sa.text("dispatched_at IS NULL"),
            sqlite_where=sa.text("dispatched_at IS NULL"),
        ),
        sa.Index("ix_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40))
    type: Mapped[str] = mapped_column(sa.String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    dispatched_at: Mapped[datetime | None]
