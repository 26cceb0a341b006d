"""Holds (queries): an account's holds and one hold, as Core rows (read-only)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vaulta.models import Account, Hold, User
from vaulta.models.hold import HOLD_ACTIVE
from vaulta.services.errors import NotFound
from vaulta.services.unit_of_work import session

HOLDS = Hold.__table__
ACCOUNTS = Account.__table__
USERS = User.__table__
LIST_MAX = 200
# The account pages: every active hold (up to this many) and then the newest ended ones.
PAGE_MAX = 50
COLUMNS = (
    HOLDS.c.id,
    ACCOUNTS.c.number.label("account"),
    HOLDS.c.account_id,
    HOLDS.c.status,
    HOLDS.c.amount_minor,
    HOLDS.c.currency,
    HOLDS.c.captured_minor,
    HOLDS.c.reason,
    HOLDS.c.expires_at,
    HOLDS.c.payment_id,
    HOLDS.c.transaction_id,
    HOLDS.c.created_at,
    HOLDS.c.ended_at,
)


_ACTIVE_FIRST = (
    sa.case((HOLDS.c.status == HOLD_ACTIVE, 0), else_=1),
    sa.case((HOLDS.c.status == HOLD_ACTIVE, HOLDS.c.expires_at), else_=None),
    HOLDS.c.id.desc(),
)


def holds_of_account(account_id: int, *, limit: int = LIST_MAX) -> list[sa.Row[Any]]:
    """The account's holds: active ones first (soonest expiry first), then the newest ended."""
    query = (
        sa.select(*COLUMNS)
        .join(ACCOUNTS, ACCOUNTS.c.id == HOLDS.c.account_id)
        .where(HOLDS.c.account_id == account_id)
        .order_by(*_ACTIVE_FIRST)
        .limit(limit)
    )
    return list(session().execute(query))


def holds_for_page(
    account_id: int, *, active_only: bool = False, limit: int = PAGE_MAX
) -> list[sa.Row[Any]]:
    """The account pages' holds in one statement, ordered as ``holds_of_account``, each
    with who placed it (``placed_by``: the staff member's name; None for the system's);
    ``active_only``: the active ones only (the customer's page)."""
    placed_by = USERS.alias("placed_by_user")
    query = (
        sa.select(
            HOLDS.c.id,
            HOLDS.c.account_id,
            HOLDS.c.status,
            HOLDS.c.amount_minor,
            HOLDS.c.currency,
            HOLDS.c.captured_minor,
            HOLDS.c.reason,
            HOLDS.c.expires_at,
            HOLDS.c.payment_id,
            HOLDS.c.transaction_id,
            HOLDS.c.created_at,
            HOLDS.c.ended_at,
            placed_by.c.full_name.label("placed_by"),
        )
        .outerjoin(placed_by, placed_by.c.id == HOLDS.c.created_by_id)
        .where(HOLDS.c.account_id == account_id)
        .order_by(*_ACTIVE_FIRST)
        .limit(limit)
    )
    if active_only:
        query = query.where(HOLDS.c.status == HOLD_ACTIVE)
    return list(session().execute(query))


def get(hold_id: int) -> sa.Row[Any]:
    row = (
        session()
        .execute(
            sa.select(*COLUMNS)
            .join(ACCOUNTS, ACCOUNTS.c.id == HOLDS.c.account_id)
            .where(HOLDS.c.id == hold_id)
        )
        .one_or_none()
    )
    if row is None:
        raise NotFound("No such hold.")
    return row


def held_of_account(account_id: int) -> int:
    """The sum of the account's active holds, counted (``accounts.held_minor`` keeps it)."""
    total = session().scalar(
        sa.select(sa.func.coalesce(sa.func.sum(HOLDS.c.amount_minor), 0)).where(
            HOLDS.c.account_id == account_id, HOLDS.c.status == HOLD_ACTIVE
        )
    )
    return int(total or 0)
