"""Payment requests: asked for by a customer, decided by an admin, executed exactly once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, TimestampMixin, in_list

if TYPE_CHECKING:
    from vaulta.models.account import Account
    from vaulta.models.transaction import Transaction
    from vaulta.models.user import User

PAYMENT_AWAITING = "awaiting_confirmation"
PAYMENT_PENDING = "pending_approval"
PAYMENT_EXECUTED = "executed"
PAYMENT_REJECTED = "rejected"
PAYMENT_CANCELLED = "cancelled"
PAYMENT_EXPIRED = "expired"
PAYMENT_FAILED = "failed"
PAYMENT_STATUSES = (
    PAYMENT_AWAITING,
    PAYMENT_PENDING,
    PAYMENT_EXECUTED,
    PAYMENT_REJECTED,
    PAYMENT_CANCELLED,
    PAYMENT_EXPIRED,
    PAYMENT_FAILED,
)
# Statuses a payment can still leave; every other status is final.
PAYMENT_OPEN_STATUSES = (PAYMENT_AWAITING, PAYMENT_PENDING)


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(in_list("status", PAYMENT_STATUSES), name="status"),
        sa.CheckConstraint(
            "beneficiary_account_id IS NOT NULL"
            " OR (beneficiary_name IS NOT NULL AND beneficiary_iban IS NOT NULL)",
            name="beneficiary",
        ),
        sa.Index("ix_payments_status_created_at", "status", "created_at"),
        # Expiry runs whenever the queue or a payment is read: it must not scan open rows.
        sa.Index("ix_payments_status_expires_at", "status", "expires_at"),
        # A customer's payments of one UTC day, per account: the daily outgoing limit.
        sa.Index("ix_payments_from_account_id_created_at", "from_account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    beneficiary_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT")
    )
    beneficiary_name: Mapped[str | None] = mapped_column(sa.String(140))
    beneficiary_iban: Mapped[str | None] = mapped_column(sa.String(34))
    beneficiary_bic: Mapped[str | None] = mapped_column(sa.String(11))  # optional, external only
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    reference: Mapped[str] = mapped_column(sa.String(140))
    status: Mapped[str] = mapped_column(sa.String(24), default=PAYMENT_AWAITING)
    requested_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    admin_approved_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    approved_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    confirmed_at: Mapped[datetime | None]
    # Who ended the payment other than by approval (reject, cancel, fail, expire) and when.
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    transaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transactions.id", ondelete="RESTRICT"), unique=True
    )
    expires_at: Mapped[datetime]
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # The change request that decides it (action ``payments.payment``), once it awaits approval.
    change_request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("change_requests.id", ondelete="RESTRICT")
    )

    from_account: Mapped[Account] = relationship(foreign_keys=[from_account_id])
    beneficiary_account: Mapped[Account | None] = relationship(
        foreign_keys=[beneficiary_account_id]
    )
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approver: Mapped[User | None] = relationship(foreign_keys=[admin_approved_by])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    transaction: Mapped[Transaction | None] = relationship(foreign_keys=[transaction_id])

    @property
    def is_external(self) -> bool:
        return self.beneficiary_account_id is None

    @property
    def is_open(self) -> bool:
        return self.status in PAYMENT_OPEN_STATUSES
