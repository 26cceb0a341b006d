"""Carrying events out: fan-out to deliveries, then signed HTTP POSTs with retries.

At least once: a delivery is claimed (its next attempt moved a lease ahead, so another
consumer leaves it alone), sent outside any transaction, and its outcome recorded. A worker
that dies mid-send leaves the claim to lapse and the delivery is sent again: receivers
dedupe by ``webhook-id`` (the event's ``evt_…`` id, the same on every attempt).

Retries back off exponentially with jitter (``retry_delay``: the first within 15 s) for
``WEBHOOK_RETRY_HOURS`` (72) after the delivery was made; then it is marked failed. An
endpoint whose attempts have failed for that long (none succeeded) is disabled and the
admins are mailed.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from vaulta import mail
from vaulta.models import (
    OutboxEvent,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from vaulta.models.user import STAFF_ADMIN, UserRole
from vaulta.models.webhook import (
    ATTEMPT_FAILED,
    ATTEMPT_SUCCEEDED,
    DELIVERY_DELIVERED,
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    EXCERPT_MAX,
)
from vaulta.services import audit, notifications
from vaulta.services.errors import InvalidInput
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.services.webhooks import secrets, signing, urls
from vaulta.services.webhooks.endpoints import wants

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 15
BACKOFF_FACTOR = 4
MAX_RETRY_SECONDS = 6 * 3600
LEASE_SECONDS = 120  # a claimed delivery is sent again after this if its worker died
BATCH = 100
ENDPOINTS = WebhookEndpoint.__table__
DELIVERIES = WebhookDelivery.__table__


def retry_delay(failed_attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before the next try after ``failed_attempts`` (n) failures: 15 s * 4^(n-1),
    at most 6 h, times a random factor in [0.5, 1] (so the first retry comes within 15 s)."""
    base = min(
        FIRST_RETRY_SECONDS * BACKOFF_FACTOR ** max(failed_attempts - 1, 0), MAX_RETRY_SECONDS
    )
    return base * (rng or random).uniform(0.5, 1.0)


def retry_window() -> timedelta:
    return timedelta(hours=current_app.config["WEBHOOK_RETRY_HOURS"])


def fan_out(limit: int = 1000) -> int:
    """Make a delivery of each undispatched event for each enabled endpoint that wants it,
    and the notifications it asks for (vaulta/services/notifications), and mark the
    events dispatched; how many events it took."""
    with write_transaction() as s:
        pending = s.execute(
            sa.select(OutboxEvent.id, OutboxEvent.type)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not pending:
            return 0
        notifications.from_events(s, pending)  # mail about them commits with this fan-out
        endpoints = s.execute(
            sa.select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(
                WebhookEndpoint.enabled.is_(True)
            )
        ).all()
        now = utcnow()
        rows = [
            {
                "endpoint_id": endpoint.id,
                "event_id": event.id,
                "status": DELIVERY_PENDING,
                "attempt_count": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for event in pending
            for endpoint in endpoints
            if wants(endpoint.event_types, event.type)
        ]
        if rows:
            s.execute(sa.insert(WebhookDelivery), rows)
        ids = [event.id for event in pending]
        s.execute(sa.update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(dispatched_at=now))
    return len(pending)


def due_ids(limit: int = BATCH, now: datetime | None = None) -> list[int]:
    """Pending deliveries of enabled endpoints whose next attempt is due, oldest first."""
    now = now or utcnow()
    return list(
        session().scalars(
            sa.select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == DELIVERY_PENDING,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.enabled.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Message:
    """What one attempt sends: where, the signed headers, the body."""

    delivery_id: int
    endpoint_id: int
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """How one attempt went; ``retry_in`` seconds when it will be tried again."""

    delivery_id: int
    succeeded: bool
    status: int | None
    retry_in: float | None = None


def deliver_due(limit: int = BATCH) -> list[Outcome]:
    """Attempt every due delivery once (claimed first, so concurrent workers share them)."""
    return [o for o in (attempt(i) for i in due_ids(limit)) if o is not None]


def attempt(delivery_id: int) -> Outcome | None:
    """Claim one delivery, POST it, record the attempt. None when it was not claimable
    (delivered, failed, disabled, not yet due or claimed by another worker)."""
    message = claim(delivery_id)
    if message is None:
        return None
    started = time.monotonic()
    status, excerpt, error = send(message)
    latency_ms = int((time.monotonic() - started) * 1000)
    return _record(message, status, excerpt, error, latency_ms)


def claim(delivery_id: int) -> Message | None:
    now = utcnow()
    with write_transaction() as s:
        claimed = s.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DELIVERY_PENDING,
                WebhookDelivery.next_attempt_at <= now,
                WebhookDelivery.endpoint_id.in_(
                    sa.select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
                ),
            )
            .values(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return None
        row = s.execute(
            sa.select(
                WebhookDelivery.endpoint_id,
                OutboxEvent.public_id,
                OutboxEvent.type,
                OutboxEvent.occurred_at,
                OutboxEvent.payload,
                WebhookEndpoint.url,
                WebhookEndpoint.secret_encrypted,
                WebhookEndpoint.previous_secret_encrypted,
                WebhookEndpoint.previous_secret_expires_at,
            )
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id == delivery_id)
        ).one()
    keys = [secrets.decrypt(row.secret_encrypted)]
    if row.previous_secret_encrypted and (row.previous_secret_expires_at or now) > now:
        keys.append(secrets.decrypt(row.previous_secret_encrypted))
    body = json.dumps(
        {
            "type": row.type,
            "timestamp": row.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": row.payload,
        },
        separators=(",", ":"),
    ).encode()
    headers = signing.headers(keys, row.public_id, int(time.time()), body)
    return Message(delivery_id, row.endpoint_id, row.url, headers, body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (3xx: a failure), never followed: it could lead inside."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def send(message: Message) -> tuple[int | None, str | None, str | None]:
    """(response status, excerpt, error) of one POST; never raises."""
    try:
        urls.check_destination(message.url)
    except InvalidInput as err:
        return None, None, err.message[:200]
    request = urllib.request.Request(  # noqa: S310 - urls.clean allows http(s) only
        message.url, data=message.body, headers=message.headers, method="POST"
    )
    request.add_header("User-Agent", "VAULTA-Webhooks/1")
    timeout = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, _excerpt(response.read(EXCERPT_MAX * 4)), None
    except urllib.error.HTTPError as err:
        return err.code, _excerpt(err.read(EXCERPT_MAX * 4)), None
    except (OSError, ValueError) as err:
        return None, None, f"{type(err).__name__}: {err}"[:200]


def _excerpt(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in text)[:EXCERPT_MAX]


def _record(
    message: Message, status: int | None, excerpt: str | None, error: str | None, latency_ms: int
) -> Outcome:
    succeeded = status is not None and 200 <= status < 300
    now = utcnow()
    disabled_url = None
    with write_transaction() as s:
        delivery = s.get(WebhookDelivery, message.delivery_id, with_for_update=True)
        endpoint = s.get(WebhookEndpoint, message.endpoint_id, with_for_update=True)
        if delivery is None or endpoint is None:  # the endpoint was deleted meanwhile
            return Outcome(message.delivery_id, succeeded, status)
        s.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                attempted_at=now,
                outcome=ATTEMPT_SUCCEEDED if succeeded else ATTEMPT_FAILED,
                response_status=status,
                latency_ms=latency_ms,
                response_excerpt=excerpt,
                error=error,
            )
        )
        delivery.attempt_count += 1
        delivery.last_attempt_at = now
        retry_in = None
        if succeeded:
            delivery.status = DELIVERY_DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            endpoint.failing_since = None
        else:
            endpoint.failing_since = endpoint.failing_since or now
            if now - delivery.created_at >= retry_window():
                delivery.status = DELIVERY_FAILED
                delivery.next_attempt_at = None
            else:
                retry_in = retry_delay(delivery.attempt_count)
                delivery.next_attempt_at = now + timedelta(seconds=retry_in)
            if endpoint.enabled and now - endpoint.failing_since >= retry_window():
                endpoint.enabled = False
                endpoint.disabled_reason = "Every delivery failed for 3 days."
                disabled_url = endpoint.url
                audit.record(
                    s,
                    actor=None,
                    action="webhook_endpoint.disable",
                    object_type="webhook_endpoint",
                    object_id=endpoint.public_id,
                    details={"url": endpoint.url, "failing_since": str(endpoint.failing_since)},
                )
    if disabled_url is not None:
        mail_admins_disabled(disabled_url)
    return Outcome(message.delivery_id, succeeded, status, retry_in)


def admin_addresses() -> list[str]:
    """Every active login holding the admin role."""
    return list(
        session().scalars(
            sa.select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == STAFF_ADMIN, User.is_active.is_(True))
        )
    )


def mail_admins_disabled(url: str) -> None:
    """Tell every active admin that an endpoint was disabled."""
    for address in admin_addresses():
        mail.send(
            address,
            "VAULTA: a webhook endpoint was disabled",
            f"Every delivery to {url} failed for {retry_window()}, so the endpoint was "
            "disabled. Fix the receiver, then enable the endpoint again under Admin → "
            "Webhooks and replay what it missed.",
        )
