"""verify-ledger's checks of holds (vaulta/services/ledger/checks.py calls them)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vaulta.models import Account, Hold, Payment, utcnow
from vaulta.models.hold import HOLD_ACTIVE, HOLD_CAPTURED
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services.ledger.holds import EXPIRY_PERIOD

HOLDS = Hold.__table__
ACCOUNTS = Account.__table__
PAYMENTS = Payment.__table__


def hold_problems(conn: Connection, *, now: datetime | None = None) -> list[str]:
    """Each account's ``held_minor`` is the sum of its active holds; no active hold is past
    its expiry by more than the expiry job's period; a payment pending approval has an
    active hold, and an active payment hold's payment is pending; a captured hold names
    its entry."""
    now = now or utcnow()
    problems: list[str] = []
    active = (
        sa.select(HOLDS.c.account_id, sa.func.sum(HOLDS.c.amount_minor).label("held"))
        .where(HOLDS.c.status == HOLD_ACTIVE)
        .group_by(HOLDS.c.account_id)
        .subquery()
    )
    held = sa.func.coalesce(active.c.held, 0)
    for number, stored, counted in conn.execute(
        sa.select(ACCOUNTS.c.number, ACCOUNTS.c.held_minor, held)
        .outerjoin(active, active.c.account_id == ACCOUNTS.c.id)
        .where(ACCOUNTS.c.held_minor != held)
        .order_by(ACCOUNTS.c.id)
    ):
        problems.append(f"account {number}: stored held {stored} != active holds {counted}")
    for hold_id, expires_at in conn.execute(
        sa.select(HOLDS.c.id, HOLDS.c.expires_at)
        .where(HOLDS.c.status == HOLD_ACTIVE, HOLDS.c.expires_at < now - EXPIRY_PERIOD)
        .order_by(HOLDS.c.id)
    ):
        problems.append(f"hold {hold_id}: still active, expired at {expires_at:%Y-%m-%d %H:%M}")
    has_hold = (
        sa.select(HOLDS.c.id)
        .where(HOLDS.c.payment_id == PAYMENTS.c.id, HOLDS.c.status == HOLD_ACTIVE)
        .exists()
    )
    for (payment_id,) in conn.execute(
        sa.select(PAYMENTS.c.id)
        .where(PAYMENTS.c.status == PAYMENT_PENDING, ~has_hold)
        .order_by(PAYMENTS.c.id)
    ):
        problems.append(f"payment {payment_id}: pending approval without an active hold")
    for hold_id, payment_id, status in conn.execute(
        sa.select(HOLDS.c.id, PAYMENTS.c.id, PAYMENTS.c.status)
        .join(PAYMENTS, PAYMENTS.c.id == HOLDS.c.payment_id)
        .where(HOLDS.c.status == HOLD_ACTIVE, PAYMENTS.c.status != PAYMENT_PENDING)
        .order_by(HOLDS.c.id)
    ):
        problems.append(f"hold {hold_id}: active but its payment {payment_id} is {status}")
    for (hold_id,) in conn.execute(
        sa.select(HOLDS.c.id)
        .where(HOLDS.c.status == HOLD_CAPTURED, HOLDS.c.transaction_id.is_(None))
        .order_by(HOLDS.c.id)
    ):
        problems.append(f"hold {hold_id}: captured without its entry")
    return problems
