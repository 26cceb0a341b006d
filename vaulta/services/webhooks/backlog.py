"""What waits to be delivered (queries): for the jobs that schedule retries and /healthz."""

from __future__ import annotations

from datetime import UTC, timedelta

import sqlalchemy as sa

from vaulta.models import OutboxEvent, WebhookDelivery, utcnow
from vaulta.models.webhook import DELIVERY_PENDING
from vaulta.services.unit_of_work import session


def upcoming(within_seconds: float) -> list[tuple[int, float]]:
    """(delivery id, seconds until due) of pending deliveries due within ``within_seconds``."""
    now = utcnow()
    rows = (
        session()
        .execute(
            sa.select(WebhookDelivery.id, WebhookDelivery.next_attempt_at).where(
                WebhookDelivery.status == DELIVERY_PENDING,
                WebhookDelivery.next_attempt_at > now,
                WebhookDelivery.next_attempt_at <= now + timedelta(seconds=within_seconds),
            )
        )
        .all()
    )
    return [(row.id, (row.next_attempt_at - now).total_seconds()) for row in rows]


def oldest_pending_age() -> float | None:
    """Seconds since the oldest work still waiting: an undispatched event, or a pending
    delivery that is overdue. None when nothing waits."""
    now = utcnow()
    event = session().scalar(
        sa.select(sa.func.min(OutboxEvent.occurred_at)).where(OutboxEvent.dispatched_at.is_(None))
    )
    overdue = session().scalar(
        sa.select(sa.func.min(WebhookDelivery.next_attempt_at)).where(
            WebhookDelivery.status == DELIVERY_PENDING, WebhookDelivery.next_attempt_at <= now
        )
    )
    oldest = min((t for t in (event, overdue) if t is not None), default=None)
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # min() over SQLite text: mark it UTC as the column type does
        oldest = oldest.replace(tzinfo=UTC)
    return max((now - oldest).total_seconds(), 0.0)
