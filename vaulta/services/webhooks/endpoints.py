"""Webhook endpoints (commands): create, change, delete, rotate the secret, replay.

Only admins manage endpoints; each change is audited. The new secret is returned once, by
``create_endpoint`` and ``rotate_secret``, and never again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from vaulta.models import OutboxEvent, User, WebhookDelivery, WebhookEndpoint, utcnow
from vaulta.models.webhook import DELIVERY_PENDING, DESCRIPTION_MAX
from vaulta.services import audit
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.events.outbox import event_row
from vaulta.services.events.payloads import EVENT_TYPES, WebhookTestData
from vaulta.services.identity import permissions
from vaulta.services.unit_of_work import write_transaction
from vaulta.services.webhooks import secrets, urls
from vaulta.text import display_problem

ALL_EVENTS = "*"
ROTATION_GRACE_MAX_HOURS = 24 * 7
DEFAULT_ROTATION_GRACE_HOURS = 24


@dataclass(frozen=True)
class NewSecret:
    """An endpoint and the secret to show its admin once."""

    endpoint: WebhookEndpoint
    secret: str


def _admin(actor: User) -> None:
    permissions.require(actor, "webhooks.manage", "Only admins manage webhook endpoints.")


def clean_event_types(values: Iterable[str]) -> list[str]:
    """Known event types, ``payment.*`` style families, or ``*`` for every event."""
    chosen = sorted({(v or "").strip() for v in values if (v or "").strip()})
    if not chosen:
        raise InvalidInput("Choose at least one event type (or * for all).", field="event_types")
    families = {name.split(".", 1)[0] for name in EVENT_TYPES}
    for value in chosen:
        family = value.removesuffix(".*")
        if value != ALL_EVENTS and value not in EVENT_TYPES and family not in families:
            raise InvalidInput(f"Unknown event type {value!r}.", field="event_types")
    return [ALL_EVENTS] if ALL_EVENTS in chosen else chosen


def wants(event_types: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``event_types`` gets ``event_type``."""
    family = event_type.split(".", 1)[0] + ".*"
    return ALL_EVENTS in event_types or event_type in event_types or family in event_types


def _clean_description(text: str | None) -> str:
    text = " ".join((text or "").split())
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"Keep the description under {DESCRIPTION_MAX} characters.", field="description"
        )
    if problem := display_problem(text):
        raise InvalidInput(problem, field="description")
    return text


def _find(s: sa.orm.Session, public_id: str) -> WebhookEndpoint:
    endpoint = s.scalar(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id).with_for_update()
    )
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def create_endpoint(
    *,
    actor: User,
    url: str,
    event_types: Iterable[str],
    description: str = "",
    enabled: bool = True,
) -> NewSecret:
    _admin(actor)
    url = urls.clean(url)
    types = clean_event_types(event_types)
    text = _clean_description(description)
    secret = secrets.new_secret()
    with write_transaction(expire_on_commit=False) as s:
        endpoint = WebhookEndpoint(
            public_id="ep_" + uuid.uuid4().hex,
            url=url,
            event_types=types,
            description=text,
            enabled=enabled,
            secret_encrypted=secrets.encrypt(secret),
            created_by_id=actor.id,
        )
        s.add(endpoint)
        s.flush()
        audit.record(
            s,
            actor=actor,
            action="webhook_endpoint.create",
            object_type="webhook_endpoint",
            object_id=endpoint.public_id,
            details={"url": url, "event_types": types, "enabled": enabled},
        )
    return NewSecret(endpoint, secret)


def update_endpoint(
    public_id: str,
    *,
    actor: User,
    url: str | None = None,
    event_types: Iterable[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given; enabling an endpoint clears its failure record."""
    _admin(actor)
    changes: dict[str, object] = {}
    if url is not None:
        changes["url"] = urls.clean(url)
    if event_types is not None:
        changes["event_types"] = clean_event_types(event_types)
    if description is not None:
        changes["description"] = _clean_description(description)
    if enabled is not None:
        changes["enabled"] = bool(enabled)
    with write_transaction(expire_on_commit=False) as s:
        endpoint = _find(s, public_id)
        changed = {k: v for k, v in changes.items() if getattr(endpoint, k) != v}
        for name, value in changed.items():
            setattr(endpoint, name, value)
        if changed.get("enabled") is True:
            endpoint.failing_since = None
            endpoint.disabled_reason = None
        if changed:
            audit.record(
                s,
                actor=actor,
                action="webhook_endpoint.update",
                object_type="webhook_endpoint",
                object_id=public_id,
                details={"changed": changed},
            )
    return endpoint


def delete_endpoint(public_id: str, *, actor: User) -> None:
    """Delete the endpoint with its deliveries and their attempts."""
    _admin(actor)
    with write_transaction() as s:
        endpoint = _find(s, public_id)
        url = endpoint.url
        s.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
        s.delete(endpoint)
        audit.record(
            s,
            actor=actor,
            action="webhook_endpoint.delete",
            object_type="webhook_endpoint",
            object_id=public_id,
            details={"url": url},
        )


def rotate_secret(
    public_id: str, *, actor: User, grace_hours: int = DEFAULT_ROTATION_GRACE_HOURS
) -> NewSecret:
    """A new secret signs from now on; the old one signs too for ``grace_hours``."""
    _admin(actor)
    if not 0 <= grace_hours <= ROTATION_GRACE_MAX_HOURS:
        raise InvalidInput(
            f"The grace period is 0 to {ROTATION_GRACE_MAX_HOURS} hours.", field="grace_hours"
        )
    secret = secrets.new_secret()
    with write_transaction(expire_on_commit=False) as s:
        endpoint = _find(s, public_id)
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted if grace_hours else None
        endpoint.previous_secret_expires_at = (
            utcnow() + timedelta(hours=grace_hours) if grace_hours else None
        )
        endpoint.secret_encrypted = secrets.encrypt(secret)
        audit.record(
            s,
            actor=actor,
            action="webhook_endpoint.rotate_secret",
            object_type="webhook_endpoint",
            object_id=public_id,
            details={"grace_hours": grace_hours},
        )
    return NewSecret(endpoint, secret)


def replay(
    public_id: str, *, actor: User, delivery_id: int | None = None, since: datetime | None = None
) -> int:
    """Send again one delivery of the endpoint, or every event since ``since`` that it wants
    (deliveries made where there were none). Returns how many deliveries are now due."""
    _admin(actor)
    if (delivery_id is None) == (since is None):
        raise InvalidInput("Replay one delivery or everything since a time.")
    now = utcnow()
    with write_transaction() as s:
        endpoint = _find(s, public_id)
        due = {"status": DELIVERY_PENDING, "next_attempt_at": now, "created_at": now}
        if delivery_id is not None:
            moved = s.execute(
                sa.update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
                )
                .values(**due)
            ).rowcount
            if moved != 1:
                raise NotFound("No such delivery for this endpoint.")
            count = 1
        else:
            count = _replay_since(s, endpoint, since or now, due)
        audit.record(
            s,
            actor=actor,
            action="webhook_endpoint.replay",
            object_type="webhook_endpoint",
            object_id=public_id,
            details={
                "delivery_id": delivery_id,
                "since": since.isoformat() if since else None,
                "count": count,
            },
        )
    return count


def _replay_since(
    s: sa.orm.Session, endpoint: WebhookEndpoint, since: datetime, due: dict[str, object]
) -> int:
    rows = s.execute(
        sa.select(OutboxEvent.id, OutboxEvent.type, WebhookDelivery.id.label("delivery_id"))
        .outerjoin(
            WebhookDelivery,
            sa.and_(
                WebhookDelivery.event_id == OutboxEvent.id,
                WebhookDelivery.endpoint_id == endpoint.id,
            ),
        )
        .where(OutboxEvent.occurred_at >= since)
        .order_by(OutboxEvent.id)
    ).all()
    wanted = [row for row in rows if wants(endpoint.event_types, row.type)]
    existing = [row.delivery_id for row in wanted if row.delivery_id is not None]
    if existing:
        s.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id.in_(existing)).values(**due))
    new = [
        {"endpoint_id": endpoint.id, "event_id": row.id, "attempt_count": 0, **due}
        for row in wanted
        if row.delivery_id is None
    ]
    if new:
        s.execute(sa.insert(WebhookDelivery), new)
    return len(wanted)


def send_test(public_id: str, *, actor: User) -> str:
    """A ``webhook.test`` event for this endpoint only (its delivery made at once, due now);
    returns the event's ``evt_…`` id."""
    _admin(actor)
    now = utcnow()
    with write_transaction() as s:
        endpoint = _find(s, public_id)
        data = WebhookTestData(endpoint_id=public_id, message="A test event from VAULTA.")
        row = event_row("webhook.test", data, occurred_at=now) | {"dispatched_at": now}
        event_id = s.execute(sa.insert(OutboxEvent).returning(OutboxEvent.id), row).scalar_one()
        s.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id=event_id,
                status=DELIVERY_PENDING,
                attempt_count=0,
                created_at=now,
                next_attempt_at=now,
            )
        )
        audit.record(
            s,
            actor=actor,
            action="webhook_endpoint.test",
            object_type="webhook_endpoint",
            object_id=public_id,
            details={"event_id": row["public_id"]},
        )
    return str(row["public_id"])
