"""Webhook endpoints, their deliveries (one per event and endpoint) and each attempt.

Secrets are stored encrypted (vaulta/services/webhooks/secrets.py): the server must sign with
them, so a one-way hash will not do (docs/security.md "Webhook secrets").
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, TimestampMixin, in_list
from vaulta.models.event import OutboxEvent

DELIVERY_PENDING = "pending"
DELIVERY_DELIVERED = "delivered"
DELIVERY_FAILED = "failed"  # gave up: retried for the whole retry window, or endpoint disabled
DELIVERY_STATUSES = (DELIVERY_PENDING, DELIVERY_DELIVERED, DELIVERY_FAILED)

ATTEMPT_SUCCEEDED = "succeeded"
ATTEMPT_FAILED = "failed"
ATTEMPT_OUTCOMES = (ATTEMPT_SUCCEEDED, ATTEMPT_FAILED)

URL_MAX = 2000
DESCRIPTION_MAX = 200
EXCERPT_MAX = 500


class WebhookEndpoint(TimestampMixin, Base):
    """Where events go: a URL, the event types it wants (``["*"]`` for all), its secret."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        sa.UniqueConstraint("public_id", name="uq_webhook_endpoints_public_id"),
        sa.CheckConstraint(f"length(url) <= {URL_MAX}", name="url_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40))  # ep_…
    url: Mapped[str] = mapped_column(sa.Text)
    event_types: Mapped[list[str]] = mapped_column(sa.JSON)
    description: Mapped[str] = mapped_column(sa.String(DESCRIPTION_MAX), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    secret_encrypted: Mapped[str] = mapped_column(sa.Text)
    # After a rotation the old secret signs too, until previous_secret_expires_at.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    previous_secret_expires_at: Mapped[datetime | None]
    # Set at the first failed attempt after a success; an endpoint failing this long is disabled.
    failing_since: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class WebhookDelivery(Base):
    """One event for one endpoint: at least once, retried with backoff until it succeeds."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_id"),
        sa.CheckConstraint(in_list("status", DELIVERY_STATUSES), name="status_known"),
        sa.CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        # The sender's scan: pending deliveries by when they are due.
        sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_event_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(16), default=DELIVERY_PENDING)
    attempt_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    event: Mapped[OutboxEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: when, outcome, response code, latency, excerpt."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        sa.CheckConstraint(in_list("outcome", ATTEMPT_OUTCOMES), name="outcome_known"),
        sa.Index("ix_webhook_attempts_delivery_id", "delivery_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempted_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(sa.String(16))
    response_status: Mapped[int | None]
    latency_ms: Mapped[int]
    response_excerpt: Mapped[str | None] = mapped_column(sa.String(EXCERPT_MAX))
    error: Mapped[str | None] = mapped_column(sa.String(200))
