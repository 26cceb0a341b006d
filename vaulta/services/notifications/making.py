"""Making notifications: from the outbox's events, and approval reminders.

Why from the fan-out: the webhook dispatcher takes every undispatched event exactly once,
under a row lock, and marks it dispatched in one transaction (dispatch.fan_out). The
notification rows are inserted in that same transaction, so an event is either still
undispatched (the next run takes it: nothing is lost while no worker runs) or dispatched
with its notification committed; no scan of old events is ever needed. A unique
(payment, kind) makes a second insert a no-op, so a replayed event mails nobody twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vaulta.models import Notification, OutboxEvent, Payment, utcnow
from vaulta.models.notification import (
    KIND_EXECUTED,
    KIND_REJECTED,
    KIND_REMINDER,
    NOTIFICATION_PENDING,
)
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services.notifications import request_reminders
from vaulta.services.unit_of_work import session, write_transaction

# Event types that mail the customer, and the kind of notification each makes.
EVENT_KINDS = {"payment.executed": KIND_EXECUTED, "payment.rejected": KIND_REJECTED}
NOTIFICATIONS = Notification.__table__


def _row(kind: str, payment_id: int, event_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "kind": kind,
        "payment_id": payment_id,
        "event_id": event_id,
        "status": NOTIFICATION_PENDING,
        "attempt_count": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def _insert_new(s: Session, rows: list[dict[str, Any]], key: str = "payment_id") -> int:
    """Insert rows, skipping any (``key``: payment or change request, kind) already
    notified; how many were new."""
    if not rows:
        return 0
    dialect = s.connection().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(NOTIFICATIONS)
    statement = insert.on_conflict_do_nothing(index_elements=[key, "kind"])
    return len(s.execute(statement.returning(NOTIFICATIONS.c.id), rows).all())


def from_events(s: Session, events: Sequence[Any]) -> int:
    """In the fan-out's transaction: a notification for each event (rows with ``id`` and
    ``type``) that mails someone; how many were made."""
    wanted = [event.id for event in events if event.type in EVENT_KINDS]
    if not wanted:
        return 0
    found = s.execute(
        sa.select(OutboxEvent.id, OutboxEvent.type, OutboxEvent.payload).where(
            OutboxEvent.id.in_(wanted)
        )
    ).all()
    now = utcnow()
    rows = [_row(EVENT_KINDS[e.type], int(e.payload["id"]), e.id, now) for e in found]
    return _insert_new(s, rows)


def waiting_too_long(now: datetime | None = None) -> list[int]:
    """Payments pending approval for more than APPROVAL_REMINDER_HOURS with no reminder yet."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config["APPROVAL_REMINDER_HOURS"])
    reminded = sa.exists().where(
        Notification.payment_id == Payment.id, Notification.kind == KIND_REMINDER
    )
    return list(
        session().scalars(
            sa.select(Payment.id)
            .where(
                Payment.status == PAYMENT_PENDING,
                Payment.created_at <= cutoff,  # the (status, created_at) index
                sa.func.coalesce(Payment.confirmed_at, Payment.created_at) <= cutoff,
                Payment.expires_at > now,
                ~reminded,
            )
            .order_by(Payment.id)
        )
    )


def make_reminders(now: datetime | None = None) -> int:
    """One reminder for each payment and each change request waiting too long (never a
    second); how many."""
    now = now or utcnow()
    due = waiting_too_long(now)
    requests = request_reminders.waiting_too_long(now)
    if not due and not requests:
        return 0
    with write_transaction() as s:
        made = _insert_new(s, [_row(KIND_REMINDER, payment_id, None, now) for payment_id in due])
        rows = [request_reminders.row(request_id, now) for request_id in requests]
        return made + _insert_new(s, rows, key="change_request_id")
