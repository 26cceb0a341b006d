"""Expiring payments whose time has passed (a command: conditional updates, audited)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa

from vaulta.models import Payment, utcnow
from vaulta.models.change_request import CR_EXPIRED
from vaulta.models.payment import (
    PAYMENT_EXPIRED,
    PAYMENT_OPEN_STATUSES,
)
from vaulta.services import audit, events
from vaulta.services.maintenance import UnderMaintenance
from vaulta.services.payments import payment_changes, payment_holds
from vaulta.services.unit_of_work import session, write_transaction


def expire_due(*, now: datetime | None = None, payment_id: int | None = None) -> int:
    """Mark open payments whose time has passed as expired; return how many.

    The check runs on every queue view: one indexed statement (status, expires_at), built
    once per shape, that usually finds nothing."""
    now = now or utcnow()
    params: dict[str, object] = {"now": now}
    if payment_id is not None:
        params["payment_id"] = payment_id
    ids = list(session().scalars(_due_query(payment_id is not None), params))
    if not ids:
        return 0
    try:
        return _expire(ids, now)
    except UnderMaintenance:  # pages stay readable; the expiry is recorded after the window
        return 0


def _expire(ids: list[int], now: datetime) -> int:
    expired = 0
    with write_transaction() as s:
        for pid in ids:
            moved = s.execute(
                sa.update(Payment)
                .where(Payment.id == pid, Payment.status.in_(PAYMENT_OPEN_STATUSES))
                .values(status=PAYMENT_EXPIRED, decided_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount == 1:
                expired += 1
                audit.record(
                    s, actor=None, action="payment.expire", object_type="payment", object_id=pid
                )
                events.emit_payment(s, "payment.expired", pid)
                payment_holds.release(s, [pid], actor_id=None, expired=True)
                payment_changes.end_request(s, [pid], CR_EXPIRED, now)
    return expired


@lru_cache(maxsize=2)
def _due_query(one: bool) -> sa.Select[tuple[int]]:
    """``expire_due``'s statement (bound parameters: now, and payment_id when ``one``): Core
    columns (no ORM result layer), the open statuses as plain parameters (not an expanding
    IN list rendered again on every run)."""
    payment = Payment.__table__.c
    due = sa.select(payment.id).where(
        payment.status.in_([sa.literal(s) for s in PAYMENT_OPEN_STATUSES]),
        payment.expires_at <= sa.bindparam("now"),
    )
    return due.where(payment.id == sa.bindparam("payment_id")) if one else due
