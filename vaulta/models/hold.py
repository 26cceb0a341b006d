"""Holds: an amount reserved on an account until it is captured, released or expires.

An account's ``held_minor`` is the sum of its active holds, changed in the same database
transaction as the hold, under the account's row lock (vaulta/services/ledger/holds.py);
its available balance is ``balance_minor - held_minor``. A capture posts an entry for
``captured_minor`` (``transaction_id``) and releases the rest.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, TimestampMixin, in_list

HOLD_ACTIVE = "active"
HOLD_CAPTURED = "captured"
HOLD_RELEASED = "released"
HOLD_EXPIRED = "expired"
HOLD_STATUSES = (HOLD_ACTIVE, HOLD_CAPTURED, HOLD_RELEASED, HOLD_EXPIRED)
REASON_MAX = 200


class Hold(TimestampMixin, Base):
    __tablename__ = "holds"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(
            "captured_minor >= 0 AND captured_minor <= amount_minor", name="captured_within_amount"
        ),
        sa.CheckConstraint(
            "status = 'captured' OR captured_minor = 0", name="captured_only_when_captured"
        ),
        sa.CheckConstraint(in_list("status", HOLD_STATUSES), name="status_known"),
        sa.CheckConstraint("length(currency) = 3", name="currency_code"),
        # Held amount per account: the active holds of one account.
        sa.Index(
            "ix_holds_account_id_active",
            "account_id",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
        # The expiry job's scan: active holds by expiry.
        sa.Index(
            "ix_holds_expires_at_active",
            "expires_at",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
        # A payment has at most one hold.
        sa.UniqueConstraint("payment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    reason: Mapped[str] = mapped_column(sa.String(REASON_MAX))
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16), default=HOLD_ACTIVE)
    captured_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    payment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payments.id", ondelete="RESTRICT")
    )
    transaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transactions.id", ondelete="RESTRICT")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    ended_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    ended_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Hold {self.id} {self.status} {self.amount_minor} {self.currency}>"
