"""Writing events to the outbox in the caller's transaction (``emit``).

A write that changes something calls ``emit(s, "payment.executed", PaymentData(…))`` inside
its ``write_transaction()``: the event row commits or rolls back with the change. After a
commit that wrote events, the task queue is nudged (``vaulta/ops/queue.py`` listens for
``session.info[PENDING]``) so webhooks go out within seconds; the periodic dispatcher finds
any that a nudge missed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from vaulta.models import OutboxEvent, Payment, utcnow
from vaulta.models.event import EVENT_ID_PREFIX
from vaulta.services.events.payloads import EVENT_TYPES, EventData, PaymentData

EVENTS = OutboxEvent.__table__
INSERT = sa.insert(EVENTS)
# Set on the session by emit(): the commit that follows wrote events.
PENDING = "vaulta_events_pending"
PAYMENT_COLUMNS = ("id", "status", "amount_minor", "currency", "reference", "transaction_id")


def new_event_id() -> str:
    """``evt_`` and 32 hex digits of a random UUID."""
    return EVENT_ID_PREFIX + uuid.uuid4().hex


def event_row(
    type_: str, data: EventData, *, occurred_at: datetime | None = None
) -> dict[str, Any]:
    """The outbox row of one event (checked: a known type with its own kind of data)."""
    expected = EVENT_TYPES.get(type_)
    if expected is None:
        raise ValueError(f"unknown event type {type_!r}")
    if not isinstance(data, expected):
        raise TypeError(f"{type_} takes {expected.__name__}, not {type(data).__name__}")
    return {
        "public_id": new_event_id(),
        "type": type_,
        "occurred_at": occurred_at or utcnow(),
        "payload": data.model_dump(mode="json"),
        "dispatched_at": None,
    }


def emit(s: Session, type_: str, data: EventData) -> str:
    """Insert one event in the session's current transaction; return its ``evt_…`` id."""
    if s.new:
        s.flush()  # rows the event describes go in first
    row = event_row(type_, data)
    s.connection().execute(INSERT, row)
    s.info[PENDING] = True
    return str(row["public_id"])


def emit_rows(s: Session, conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert prepared rows (``event_row``) with one statement on ``conn`` (the session's)."""
    if rows:
        conn.execute(INSERT, rows)
        s.info[PENDING] = True


def mark_pending(s: Session) -> None:
    """Say that the session's transaction wrote events some other way (one statement)."""
    s.info[PENDING] = True


PAYMENTS = Payment.__table__
_PAYMENT = sa.select(*(PAYMENTS.c[name] for name in PAYMENT_COLUMNS)).where(
    PAYMENTS.c.id == sa.bindparam("payment_id")
)


def emit_payment(s: Session, type_: str, payment_id: int, *, reason: str | None = None) -> str:
    """Emit a ``payment.*`` event with the payment as it now is in this transaction."""
    if s.new or s.dirty:
        s.flush()
    row = s.connection().execute(_PAYMENT, {"payment_id": payment_id}).one()
    return emit(s, type_, PaymentData(**row._asdict(), reason=reason))


def payment_row(
    type_: str,
    payment_id: int,
    claimed: Any,
    *,
    status: str,
    transaction_id: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The outbox row of a ``payment.*`` event from a claimed row (amount_minor, currency,
    reference): for writes that post it in one statement (``ledger.move(also_emit=…)``)."""
    data = PaymentData(
        id=payment_id,
        status=status,
        amount_minor=claimed.amount_minor,
        currency=claimed.currency,
        reference=claimed.reference,
        transaction_id=transaction_id,
        reason=reason,
    )
    return event_row(type_, data)
