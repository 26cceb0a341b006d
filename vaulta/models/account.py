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
# The bank's FX position in a currency: the other side of customers' conversions
# (vaulta/services/ledger/fx/). Like a system account it has no customer and may go negative.
KIND_FX_POSITION = "fx_position"
ACCOUNT_KINDS = (KIND_CUSTOMER, KIND_SYSTEM, KIND_FX_POSITION)
BANK_KINDS = (KIND_SYSTEM, KIND_FX_POSITION)

ACCOUNT_ACTIVE = "active"
ACCOUNT_FROZEN = "frozen"
ACCOUNT_CLOSED = "closed"
# Blocked in one direction: no money out (debit) or no money in (credit); the other works.
ACCOUNT_DEBIT_BLOCKED = "debit_blocked"
ACCOUNT_CREDIT_BLOCKED = "credit_blocked"
ACCOUNT_STATUSES = (
    ACCOUNT_ACTIVE,
    ACCOUNT_FROZEN,
    ACCOUNT_CLOSED,
    ACCOUNT_DEBIT_BLOCKED,
    ACCOUNT_CREDIT_BLOCKED,
)
# The statuses in which money may leave (be debited) or enter (be credited) an account.
MAY_SEND = (ACCOUNT_ACTIVE, ACCOUNT_CREDIT_BLOCKED)
MAY_RECEIVE = (ACCOUNT_ACTIVE, ACCOUNT_DEBIT_BLOCKED)
STATUS_LABELS = {
    ACCOUNT_ACTIVE: "active",
    ACCOUNT_FROZEN: "frozen",
    ACCOUNT_CLOSED: "closed",
    ACCOUNT_DEBIT_BLOCKED: "debit blocked (no money out)",
    ACCOUNT_CREDIT_BLOCKED: "credit blocked (no money in)",
}


def refusal(number: str, status: str, *, sending: bool) -> str | None:
    """Why account ``number`` in ``status`` may not send (``sending``) or receive money now;
    None when it may."""
    if status in (MAY_SEND if sending else MAY_RECEIVE):
        return None
    if status == ACCOUNT_DEBIT_BLOCKED:
        return f"Account {number} is debit-blocked: no money may leave it."
    if status == ACCOUNT_CREDIT_BLOCKED:
        return f"Account {number} is credit-blocked: no money may enter it."
    return f"Account {number} is {status}."


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        sa.CheckConstraint(in_list("kind", ACCOUNT_KINDS), name="kind"),
        sa.CheckConstraint(in_list("status", ACCOUNT_STATUSES), name="status"),
        sa.CheckConstraint(
            "(kind IN ('system', 'fx_position') AND customer_id IS NULL)"
            " OR (kind = 'customer' AND customer_id IS NOT NULL)",
            name="owner_matches_kind",
        ),
        # A customer account may go below zero down to its overdraft limit, never further;
        # only customer accounts have a limit (system accounts may be negative freely).
        sa.CheckConstraint(
            "kind IN ('system', 'fx_position') OR balance_minor >= -overdraft_limit_minor",
            name="within_overdraft",
        ),
        sa.CheckConstraint(
            "overdraft_limit_minor >= 0 AND (kind = 'customer' OR overdraft_limit_minor = 0)",
            name="overdraft_limit_valid",
        ),
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
        # One FX position account per currency.
        sa.Index(
            "uq_accounts_fx_position_currency",
            "currency",
            unique=True,
            sqlite_where=sa.text("kind = 'fx_position'"),
            postgresql_where=sa.text("kind = 'fx_position'"),
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
    overdraft_limit_minor: Mapped[int] = mapped_column(
        sa.BigInteger, default=0, server_default=sa.text("0")
    )
    # The sum of the account's active holds (vaulta/models/hold.py), kept with them.
    held_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(sa.String(16), default=ACCOUNT_ACTIVE)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    customer: Mapped[Customer | None] = relationship(back_populates="accounts")

    @property
    def available_minor(self) -> int:
        """What a debit may use: the balance less active holds plus the overdraft limit."""
        return self.balance_minor - self.held_minor + self.overdraft_limit_minor

    @property
    def is_system(self) -> bool:
        """The bank's own account (a system or FX position account), not a customer's."""
        return self.kind in BANK_KINDS

    def __repr__(self) -> str:
        return f"<Account {self.number} {self.currency} {self.balance_minor}>"
