"""What waits to be delivered (queries): for the jobs that schedule retries, /healthz and
the staff dashboard."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from vaulta.models import OutboxEvent, WebhookDelivery, WebhookEndpoint, utcnow
from vaulta.models.webhook import DELIVERY_FAILED, DELIVERY_PENDING
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


class WebhookHealth(NamedTuple):
    """The staff dashboard's integration figures: endpoints and deliveries in trouble."""

    endpoints: int  # endpoints configured (the section shows only when there are any)
    failing: list[sa.Row[Any]]  # endpoints failing or disabled: public_id, url, since, reason
    retrying: int  # deliveries pending after at least one failed attempt
    failed_today: int  # deliveries given up in the last 24 hours
    oldest_waiting_seconds: float | None  # see oldest_pending_age


def webhook_health() -> WebhookHealth:
    """Endpoints in trouble and the deliveries behind them (a few small indexed reads)."""
    s = session()
    endpoints = s.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) or 0
    if not endpoints:
        return WebhookHealth(0, [], 0, 0, None)
    failing = s.execute(
        sa.select(
            WebhookEndpoint.public_id,
            WebhookEndpoint.url,
            WebhookEndpoint.enabled,
            WebhookEndpoint.failing_since,
            WebhookEndpoint.disabled_reason,
        )
        .where(sa.or_(WebhookEndpoint.failing_since.is_not(None), ~WebhookEndpoint.enabled))
        .order_by(WebhookEndpoint.failing_since, WebhookEndpoint.id)
    ).all()
    retrying = s.scalar(
        sa.select(sa.func.count()).where(
            WebhookDelivery.status == DELIVERY_PENDING, WebhookDelivery.attempt_count > 0
        )
    )
    failed_today = s.scalar(
        sa.select(sa.func.count()).where(
            WebhookDelivery.status == DELIVERY_FAILED,
            WebhookDelivery.last_attempt_at >= utcnow() - timedelta(days=1),
        )
    )
    return WebhookHealth(
        endpoints, list(failing), retrying or 0, failed_today or 0, oldest_pending_age()
    )
