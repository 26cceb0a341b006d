"""Mail to customers and approvers, waiting to be sent by a background job.

A row is made in the transaction that fans an outbox event out (``payment.executed``,
``payment.rejected``: vaulta/services/webhooks/dispatch.py) or by the reminder job
(``approval.reminder`` for a payment, ``change_request.reminder`` for a change request), at
most one per payment and kind (``uq_notifications_payment_id_kind``) or change request and
kind (``uq_notifications_change_request_id_kind``; ``ck_notifications_one_subject``: exactly
one of the two): so a committed event is never lost (the row commits with the event's
``dispatched_at``) and a reminder goes out once. vaulta/services/notifications sends them,
at least once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, in_list

KIND_EXECUTED = "payment.executed"
KIND_REJECTED = "payment.rejected"
KIND_REMINDER = "approval.reminder"
KIND_REQUEST_REMINDER = "change_request.reminder"
NOTIFICATION_KINDS = (KIND_EXECUTED, KIND_REJECTED, KIND_REMINDER, KIND_REQUEST_REMINDER)

NOTIFICATION_PENDING = "pending"
NOTIFICATION_SENT = "sent"
NOTIFICATION_FAILED = "failed"  # gave up after the last attempt
NOTIFICATION_STATUSES = (NOTIFICATION_PENDING, NOTIFICATION_SENT, NOTIFICATION_FAILED)
ERROR_MAX = 200


class Notification(Base):
    """One mail about one payment or one change request: what kind, whether it went out,
    when to try again."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("payment_id", "kind", name="uq_notifications_payment_id_kind"),
        sa.UniqueConstraint(
            "change_request_id", "kind", name="uq_notifications_change_request_id_kind"
        ),
        sa.CheckConstraint(in_list("kind", NOTIFICATION_KINDS), name="kind_known"),
        sa.CheckConstraint(
            "(payment_id IS NULL) <> (change_request_id IS NULL)", name="one_subject"
        ),
        sa.CheckConstraint(in_list("status", NOTIFICATION_STATUSES), name="status_known"),
        sa.CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        # The sender's scan: pending notifications by when they are due.
        sa.Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_notifications_event_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id", ondelete="CASCADE"))
    change_request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("change_requests.id", ondelete="CASCADE")
    )
    # The outbox event it came from (none for reminders).
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("events.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(16), default=NOTIFICATION_PENDING)
    attempt_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(ERROR_MAX))
