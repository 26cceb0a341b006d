"""Reminders about change requests waiting for a decision (issue 17), in the same
``notifications`` table and by the same sender as the payments' reminders.

A pending change request older than ``APPROVAL_REMINDER_HOURS`` (and not yet expired) gets
one ``change_request.reminder`` row, never a second (``uq_notifications_change_request_id_kind``).
When it is sent, its recipients are read from the request as it is then: nobody once it
was decided, cancelled or expired; otherwise the active logins whose roles may decide its
next level (a role that grants ``requests.decide`` and that the level allows), never its
maker and never someone who already decided it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from vaulta.models import ChangeDecision, ChangeRequest, Notification, User, utcnow
from vaulta.models.change_request import CR_PENDING
from vaulta.models.notification import KIND_REQUEST_REMINDER, NOTIFICATION_PENDING
from vaulta.models.user import UserRole
from vaulta.money import format_amount
from vaulta.services.changes.policies import PAYMENT_ACTION
from vaulta.services.identity.permissions import ROLE_PERMISSIONS
from vaulta.services.unit_of_work import session

DECIDE = "requests.decide"


def waiting_too_long(now: datetime) -> list[int]:
    """Pending change requests older than APPROVAL_REMINDER_HOURS with no reminder yet
    (the ``(status, created_at)`` index). A payment's own request is left out: the payment
    reminder (``approval.reminder``, vaulta/services/notifications/making.py) covers it, so
    its approvers are mailed once, not twice."""
    cutoff = now - timedelta(hours=current_app.config["APPROVAL_REMINDER_HOURS"])
    reminded = sa.exists().where(
        Notification.change_request_id == ChangeRequest.id,
        Notification.kind == KIND_REQUEST_REMINDER,
    )
    return list(
        session().scalars(
            sa.select(ChangeRequest.id)
            .where(
                ChangeRequest.status == CR_PENDING,
                ChangeRequest.created_at <= cutoff,
                ChangeRequest.expires_at > now,
                ChangeRequest.action != PAYMENT_ACTION,
                ~reminded,
            )
            .order_by(ChangeRequest.id)
        )
    )


def row(request_id: int, now: datetime) -> dict[str, Any]:
    return {
        "kind": KIND_REQUEST_REMINDER,
        "change_request_id": request_id,
        "status": NOTIFICATION_PENDING,
        "attempt_count": 0,
        "created_at": now,
        "next_attempt_at": now,
    }


def next_level_roles(request: ChangeRequest) -> list[str]:
    """The roles that may decide ``request``'s next level and hold ``requests.decide``."""
    levels = request.roles_per_level or [[]]
    allowed = set(levels[min(request.next_level, len(levels)) - 1])
    return sorted(r for r in allowed if DECIDE in ROLE_PERMISSIONS.get(r, frozenset()))


def decider_addresses(request: ChangeRequest) -> list[str]:
    """Who may decide ``request``'s next level now: not its maker, not a past decider."""
    roles = next_level_roles(request)
    if not roles:
        return []
    decided = sa.select(ChangeDecision.decider_id).where(ChangeDecision.request_id == request.id)
    return list(
        session().scalars(
            sa.select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role.in_(roles),
                User.is_active.is_(True),
                User.id != request.maker_id,
                User.id.not_in(decided),
            )
            .distinct()
            .order_by(User.email)
        )
    )


def compose(request: ChangeRequest) -> tuple[list[str], str, str]:
    """Recipients, subject and body of the reminder, from the request as it is now."""
    if request.status != CR_PENDING or request.expires_at <= utcnow():
        return [], "", ""  # decided, cancelled or expired meanwhile: nobody to remind
    hours = current_app.config["APPROVAL_REMINDER_HOURS"]
    amount = (
        f" ({format_amount(request.amount_minor, request.currency)})"
        if request.amount_minor is not None and request.currency
        else ""
    )
    level = f"level {request.next_level} of {request.levels_required}"
    return (
        decider_addresses(request),
        f"VAULTA: change request #{request.id} still needs a decision",
        f"Change request #{request.id}{amount}: {request.summary}\n"
        f"It has waited more than {hours} hours for an approver ({level}). "
        "Decide it in the Inbox of the back office.",
    )
