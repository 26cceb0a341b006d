"""Standing orders: a customer's recurring payment, and one run row per due date.

A run is made exactly once per (order, due date): the unique constraint
``uq_standing_order_runs_standing_order_id_due_date`` refuses a second, whichever runner
comes second (vaulta/services/standing_orders/running.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, TimestampMixin, in_list, utcnow

if TYPE_CHECKING:
    from vaulta.models.account import Account

WEEKLY = "weekly"
MONTHLY = "monthly"
FREQUENCIES = (WEEKLY, MONTHLY)

ORDER_ACTIVE = "active"
ORDER_PAUSED = "paused"
ORDER_CANCELLED = "cancelled"
ORDER_COMPLETED = "completed"  # its end date or count was reached
ORDER_STATUSES = (ORDER_ACTIVE, ORDER_PAUSED, ORDER_CANCELLED, ORDER_COMPLETED)

RUN_CREATED = "created"  # a payment was made (it then goes through approval like any other)
RUN_FAILED = "failed"  # the payment was refused at creation: ``error`` says why
RUN_SKIPPED = "skipped"  # missed longer ago than the catch-up window: no payment
RUN_STATUSES = (RUN_CREATED, RUN_FAILED, RUN_SKIPPED)
ERROR_MAX = 300


class StandingOrder(TimestampMixin, Base):
    __tablename__ = "standing_orders"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(in_list("frequency", FREQUENCIES), name="frequency_known"),
        sa.CheckConstraint(in_list("status", ORDER_STATUSES), name="status_known"),
        sa.CheckConstraint("max_runs IS NULL OR max_runs > 0", name="max_runs_positive"),
        sa.CheckConstraint("runs_done >= 0", name="runs_done_not_negative"),
        sa.CheckConstraint("end_date IS NULL OR end_date >= first_date", name="end_after_first"),
        sa.CheckConstraint(
            "to_account_id IS NOT NULL"
            " OR (beneficiary_name IS NOT NULL AND beneficiary_iban IS NOT NULL)",
            name="beneficiary",
        ),
        # The runner's scan: active orders by their next due date.
        sa.Index("ix_standing_orders_status_next_due_date", "status", "next_due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    from_account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    to_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT")
    )
    beneficiary_name: Mapped[str | None] = mapped_column(sa.String(140))
    beneficiary_iban: Mapped[str | None] = mapped_column(sa.String(34))
    beneficiary_bic: Mapped[str | None] = mapped_column(sa.String(11))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    reference: Mapped[str] = mapped_column(sa.String(140))
    frequency: Mapped[str] = mapped_column(sa.String(16))
    first_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    max_runs: Mapped[int | None]
    runs_done: Mapped[int] = mapped_column(default=0)
    # None once the order has ended (cancelled or completed).
    next_due_date: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default=ORDER_ACTIVE)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    ended_at: Mapped[datetime | None]

    from_account: Mapped[Account] = relationship(foreign_keys=[from_account_id])
    to_account: Mapped[Account | None] = relationship(foreign_keys=[to_account_id])


class StandingOrderRun(Base):
    __tablename__ = "standing_order_runs"
    __table_args__ = (
        sa.UniqueConstraint("standing_order_id", "due_date"),
        sa.CheckConstraint(in_list("status", RUN_STATUSES), name="status_known"),
        # The mailer's scan: failed runs whose mail has not gone out yet.
        sa.Index("ix_standing_order_runs_status_mailed_at", "status", "mailed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    standing_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("standing_orders.id", ondelete="RESTRICT")
    )
    due_date: Mapped[date] = mapped_column(sa.Date)
    payment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payments.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(sa.String(16))
    error: Mapped[str | None] = mapped_column(sa.String(ERROR_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Failed runs mail the customer: claimed with a lease, marked once sent.
    mail_claimed_at: Mapped[datetime | None]
    mailed_at: Mapped[datetime | None]
