"""Accounts hold a balance in one currency, in integer minor units."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, in_list, utcnow

if TYPE_CHECKING:
    from vaulta.models.customer import Customer

KIND_CUSTOMER = "customer"
KIND_SYSTEM = "system"
ACCOUNT_KINDS = (KIND_CUSTOMER, KIND_SYSTEM)

ACCOUNT_ACTIVE = "active"
ACCOUNT_FROZEN = "frozen"
ACCOUNT_CLOSED = "closed"
ACCOUNT_STATUSES = (ACCOUNT_ACTIVE, ACCOUNT_FROZEN, ACCOUNT_CLOSED)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        sa.CheckConstraint(in_list("kind", ACCOUNT_KINDS), name="kind"),
        sa.CheckConstraint(in_list("status", ACCOUNT_STATUSES), name="status"),
        sa.CheckConstraint(
            "(kind = 'system' AND customer_id IS NULL)"
            " OR (kind = 'customer' AND customer_id IS NOT NULL)",
            name="owner_matches_kind",
        ),
        sa.CheckConstraint("kind = 'system' OR balance_minor >= 0", name="customer_not_negative"),
        sa.CheckConstraint("length(currency) = 3", name="currency_code"),
        sa.CheckConstraint("held_minor >= 0", name="held_not_negative"),
        # One system account per currency: money entering and leaving the bank.
        sa.Index(
            "uq_accounts_system_currency",
            "currency",
            unique=True,
            sqlite_where=sa.text("kind = 'system'"),
            postgresql_where=sa.text("kind = 'system'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(12), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16), default=KIND_CUSTOMER)
    currency: Mapped[str] = mapped_column(sa.String(3))
    balance_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The sum of the account's active holds (vaulta/models/hold.py), kept with them.
    held_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(sa.String(16), default=ACCOUNT_ACTIVE)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    customer: Mapped[Customer | None] = relationship(back_populates="accounts")

    @property
    def available_minor(self) -> int:
        """Balance less active holds (what a debit may use)."""
        return self.balance_minor - self.held_minor

    @property
    def is_system(self) -> bool:
        return self.kind == KIND_SYSTEM

    def __repr__(self) -> str:
        return f"<Account {self.number} {self.currency} {self.balance_minor}>"
