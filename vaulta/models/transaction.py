"""Ledger transactions: the header of a journal entry (ledger v2).

Its legs are its postings (vaulta/models/posting.py), the truth for balances. The header's
debit and credit accounts and amount are the entry's principal movement: "from", "to",
the amount in the from-account's currency (for a plain movement, its only one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vaulta.models.base import Base, CreatedAtMixin, in_list

if TYPE_CHECKING:
    from vaulta.models.account import Account

TX_DEPOSIT = "deposit"
TX_WITHDRAWAL = "withdrawal"
TX_TRANSFER = "transfer"
TX_PAYMENT = "payment"
TX_REVERSAL = "reversal"
TRANSACTION_KINDS = (TX_DEPOSIT, TX_WITHDRAWAL, TX_TRANSFER, TX_PAYMENT, TX_REVERSAL)


class Transaction(CreatedAtMixin, Base):
    """A posted entry's header. Posted rows are never edited or deleted."""

    __tablename__ = "transactions"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        sa.CheckConstraint(in_list("kind", TRANSACTION_KINDS), name="kind"),
        sa.Index("ix_transactions_debit_account_id_id", "debit_account_id", "id"),
        sa.Index("ix_transactions_credit_account_id_id", "credit_account_id", "id"),
        sa.Index("ix_transactions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debit_account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    credit_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="RESTRICT")
    )
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    kind: Mapped[str] = mapped_column(sa.String(16))
    description: Mapped[str] = mapped_column(sa.String(200))
    reference: Mapped[str | None] = mapped_column(sa.String(140))
    reverses_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("transactions.id", ondelete="RESTRICT"), unique=True
    )
    created_by_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    debit_account: Mapped[Account] = relationship(foreign_keys=[debit_account_id])
    credit_account: Mapped[Account] = relationship(foreign_keys=[credit_account_id])

    def __repr__(self) -> str:
        return f"<Transaction {self.id} {self.kind} {self.amount_minor} {self.currency}>"
