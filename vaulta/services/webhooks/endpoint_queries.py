"""Webhook endpoints and their delivery log, read for the admin page and the API."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vaulta.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from vaulta.services.errors import NotFound
from vaulta.services.unit_of_work import session

DELIVERY_LOG_LIMIT = 50


def list_endpoints() -> list[WebhookEndpoint]:
    return list(session().scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get_endpoint(public_id: str) -> WebhookEndpoint:
    endpoint = session().scalar(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id)
    )
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def endpoint_json(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The API's view of an endpoint: never its secret."""
    return {
        "id": endpoint.public_id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
        "secret_rotation_ends_at": (
            endpoint.previous_secret_expires_at.isoformat()
            if endpoint.previous_secret_expires_at
            else None
        ),
        "created_at": endpoint.created_at.isoformat(),
    }


def delivery_log(endpoint_id: int, *, limit: int = DELIVERY_LOG_LIMIT) -> list[dict[str, Any]]:
    """The endpoint's newest deliveries, each with its attempts (oldest attempt first)."""
    deliveries = (
        session()
        .execute(
            sa.select(
                WebhookDelivery.id,
                WebhookDelivery.status,
                WebhookDelivery.attempt_count,
                WebhookDelivery.created_at,
                WebhookDelivery.next_attempt_at,
                WebhookDelivery.delivered_at,
                OutboxEvent.public_id.label("event_id"),
                OutboxEvent.type.label("event_type"),
            )
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        .all()
    )
    ids = [d.id for d in deliveries]
    attempts: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for a in (
            session()
            .execute(
                sa.select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(ids))
                .order_by(WebhookAttempt.id)
            )
            .scalars()
        ):
            attempts[a.delivery_id].append(
                {
                    "attempted_at": a.attempted_at.isoformat(),
                    "outcome": a.outcome,
                    "response_status": a.response_status,
                    "latency_ms": a.latency_ms,
                    "response_excerpt": a.response_excerpt,
                    "error": a.error,
                }
            )
    return [
        {
            "id": d.id,
            "event_id": d.event_id,
            "event_type": d.event_type,
            "status": d.status,
            "attempt_count": d.attempt_count,
            "created_at": d.created_at.isoformat(),
            "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "attempts": attempts[d.id],
        }
        for d in deliveries
    ]
