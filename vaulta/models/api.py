"""The JSON API's memory of idempotent requests: the first response to each key, kept as sent."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, CreatedAtMixin


class ApiIdempotencyKey(CreatedAtMixin, Base):
    """One ``Idempotency-Key`` of one user: the request's hash and the response it got.

    The unique (user_id, key) constraint is what makes two concurrent first requests with
    the same key produce one payment: the second insert fails and its transaction (with its
    payment) is rolled back.
    """

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", name="uq_api_idempotency_keys_user_id_key"),
        sa.CheckConstraint("response_status BETWEEN 100 AND 599", name="response_status_is_http"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(64))
    request_hash: Mapped[str] = mapped_column(sa.String(64))  # SHA-256, hex
    response_status: Mapped[int]
    response_body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
