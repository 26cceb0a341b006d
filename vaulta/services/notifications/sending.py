"""Sending notifications: at least once, never inside a database transaction.

Each due row is claimed (its next attempt moved a lease ahead, so another worker leaves it
alone), its mail composed from the payment as it is now, sent, then marked sent. A worker
that dies between the mail and the mark leaves the lease to lapse and the mail goes again
(a duplicate, never a loss). A failed send is retried with backoff; after MAX_ATTEMPTS the
row is marked failed and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from vaulta import mail
from vaulta.models import Account, ChangeRequest, Notification, Payment, User, utcnow
from vaulta.models.notification import (
    ERROR_MAX,
    KIND_EXECUTED,
    KIND_REJECTED,
    KIND_REMINDER,
    KIND_REQUEST_REMINDER,
    NOTIFICATION_FAILED,
    NOTIFICATION_PENDING,
    NOTIFICATION_SENT,
)
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.models.user import UserRole
from vaulta.money import format_amount
from vaulta.services.identity.permissions import ROLE_PERMISSIONS
from vaulta.services.notifications import request_reminders
from vaulta.services.unit_of_work import session, write_transaction

log = logging.getLogger(__name__)
LEASE_SECONDS = 120
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
BATCH = 100
DECIDE = "requests.decide"


@dataclass(frozen=True)
class Mail:
    """What one notification sends: to whom, subject and body."""

    recipients: list[str]
    subject: str
    body: str


def any_due() -> bool:
    """Whether a notification is due now (one indexed look-up)."""
    return (
        session().scalar(
            sa.select(Notification.id)
            .where(
                Notification.status == NOTIFICATION_PENDING,
                Notification.next_attempt_at <= utcnow(),
            )
            .limit(1)
        )
        is not None
    )


def send_due(limit: int = BATCH) -> int:
    """Send every due notification once; how many went out."""
    ids = list(
        session().scalars(
            sa.select(Notification.id)
            .where(
                Notification.status == NOTIFICATION_PENDING,
                Notification.next_attempt_at <= utcnow(),
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(limit)
        )
    )
    return sum(1 for notification_id in ids if send_one(notification_id))


def send_one(notification_id: int) -> bool:
    """Claim, compose, send and mark one notification; False when it was not claimable
    (sent, failed, not yet due, claimed by another worker) or the send failed."""
    composed = _claim(notification_id)
    if composed is None:
        return False
    try:
        for address in composed.recipients:
            mail.send(address, composed.subject, composed.body)
    except Exception as err:  # SMTP down, refused: try again later
        _failed(notification_id, f"{type(err).__name__}: {err}")
        return False
    with write_transaction() as s:
        s.execute(
            sa.update(Notification)
            .where(Notification.id == notification_id)
            .values(status=NOTIFICATION_SENT, sent_at=utcnow(), next_attempt_at=None)
        )
    return True


def _claim(notification_id: int) -> Mail | None:
    now = utcnow()
    with write_transaction() as s:
        claimed = s.execute(
            sa.update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.status == NOTIFICATION_PENDING,
                Notification.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return None
        kind, payment_id, request_id = s.execute(
            sa.select(
                Notification.kind, Notification.payment_id, Notification.change_request_id
            ).where(Notification.id == notification_id)
        ).one()
        if kind == KIND_REQUEST_REMINDER:
            request = s.get(ChangeRequest, request_id)
            assert request is not None  # the foreign key cascades
            return Mail(*request_reminders.compose(request))
        payment = s.get(Payment, payment_id)
        assert payment is not None  # the foreign key cascades
        return compose(kind, payment)


def _failed(notification_id: int, error: str) -> None:
    log.warning("notification %s not sent: %s", notification_id, error)
    with write_transaction() as s:
        row = s.get(Notification, notification_id, with_for_update=True)
        if row is None:
            return
        row.attempt_count += 1
        row.last_error = error[:ERROR_MAX]
        if row.attempt_count >= MAX_ATTEMPTS:
            row.status = NOTIFICATION_FAILED
            row.next_attempt_at = None
            log.error("notification %s given up after %s attempts", row.id, row.attempt_count)
        else:
            delay = min(FIRST_RETRY_SECONDS * 2 ** (row.attempt_count - 1), MAX_RETRY_SECONDS)
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)


def compose(kind: str, payment: Payment) -> Mail:
    """The mail of one notification, from the payment as it is now."""
    amount = format_amount(payment.amount_minor, payment.currency)
    what = f"payment #{payment.id} of {amount} (reference: {payment.reference})"
    if kind == KIND_EXECUTED:
        return Mail(
            customer_addresses(payment),
            f"VAULTA: payment #{payment.id} was executed",
            f"Your {what} was executed. The money has left your account.",
        )
    if kind == KIND_REJECTED:
        reason = payment.rejection_reason or "no reason was given"
        return Mail(
            customer_addresses(payment),
            f"VAULTA: payment #{payment.id} was rejected",
            f"Your {what} was rejected: {reason}\nNo money has left your account.",
        )
    if kind == KIND_REMINDER:
        if payment.status != PAYMENT_PENDING:  # decided meanwhile: nobody to remind
            return Mail([], "", "")
        hours = current_app.config["APPROVAL_REMINDER_HOURS"]
        return Mail(
            approver_addresses(payment),
            f"VAULTA: payment #{payment.id} waits for a decision",
            f"The {what} has waited more than {hours} hours for an approver. "
            "Decide it under Approvals in the back office.",
        )
    raise ValueError(f"unknown notification kind {kind!r}")


def customer_addresses(payment: Payment) -> list[str]:
    """The active logins of the customer whose account pays."""
    customer_id = sa.select(Account.customer_id).where(Account.id == payment.from_account_id)
    return list(
        session().scalars(
            sa.select(User.email)
            .where(User.customer_id == customer_id.scalar_subquery(), User.is_active.is_(True))
            .order_by(User.id)
        )
    )


def approver_addresses(payment: Payment) -> list[str]:
    """Active logins allowed to decide the payment: a role granting requests.decide, and
    not the one who entered it (four eyes)."""
    roles = sorted(role for role, granted in ROLE_PERMISSIONS.items() if DECIDE in granted)
    return list(
        session().scalars(
            sa.select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserRole.role.in_(roles),
                User.is_active.is_(True),
                User.id != payment.requested_by_id,
            )
            .distinct()
            .order_by(User.email)
        )
    )
