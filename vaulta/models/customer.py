"""Customers of the bank (people or businesses), who own accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, TimestampMixin, in_list

if TYPE_CHECKING:
    from vaulta.models.account import Account
    from vaulta.models.user import User

CUSTOMER_ACTIVE = "active"
CUSTOMER_SUSPENDED = "suspended"
CUSTOMER_CLOSED = "closed"
CUSTOMER_STATUSES = (CUSTOMER_ACTIVE, CUSTOMER_SUSPENDED, CUSTOMER_CLOSED)


class Customer(TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        sa.CheckConstraint(in_list("status", CUSTOMER_STATUSES), name="status"),
        sa.CheckConstraint(
            "daily_outgoing_limit_minor IS NULL OR daily_outgoing_limit_minor >= 0",
            name="daily_outgoing_limit_not_negative",
        ),
        # Search and keyset pagination by name stay fast at 100,000 customers.
        sa.Index("ix_customers_full_name_id", "full_name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_number: Mapped[str] = mapped_column(sa.String(12), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    address: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default=CUSTOMER_ACTIVE)
    # The most the customer's payments may send out per UTC day, in each currency separately
    # (minor units of that currency); None: no limit (vaulta/services/payments/daily_limit.py).
    daily_outgoing_limit_minor: Mapped[int | None] = mapped_column(sa.BigInteger)

    accounts: Mapped[list[Account]] = relationship(back_populates="customer", order_by="Account.id")
    users: Mapped[list[User]] = relationship(back_populates="customer")

    def __repr__(self) -> str:
        return f"<Customer {self.customer_number}>"
