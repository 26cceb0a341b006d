"""The audit log: who did what to which object, from where, and when. Never holds a secret.

Each event carries ``chain_hash``, the SHA-256 of the previous event's hash and its own
canonical JSON (vaulta/services/audit/chain.py); ``AuditChainHead`` is the one row that
holds the newest event's id and hash, locked by every writer so the chain never forks.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, CreatedAtMixin

CHAIN_HEAD_ROW_ID = 1
HASH_LENGTH = 64  # SHA-256, hex


class AuditEvent(CreatedAtMixin, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_object_type_object_id", "object_type", "object_id"),
        sa.Index("ix_audit_events_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(32))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    client_address: Mapped[str | None] = mapped_column(sa.String(64))
    # None only on a row written around the chain (which ``verify-audit`` reports).
    chain_hash: Mapped[str | None] = mapped_column(sa.String(HASH_LENGTH))


class AuditChainHead(Base):
    """The newest chained event (``id = 1`` only): its id and hash; the genesis hash and
    no id while the log is empty. No foreign key: deleting the newest events must stay
    visible to ``verify-audit``, not be refused or cascaded."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (sa.CheckConstraint(f"id = {CHAIN_HEAD_ROW_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_hash: Mapped[str] = mapped_column(sa.String(HASH_LENGTH))
