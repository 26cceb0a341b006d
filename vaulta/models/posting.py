"""Postings: the legs of a journal entry (its header is a ``Transaction``).

Each posting moves a signed amount on one account: a credit is positive, a debit negative.
The postings of one entry sum to zero per currency and share its value date (the day the
money counts from, apart from ``created_at``, when it was booked). An account's stored
balance is the sum of its postings, kept in the same database transaction by
vaulta/services/ledger. Posted rows are never edited or deleted.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, CreatedAtMixin

# BIGINT on PostgreSQL (two rows per entry); SQLite's INTEGER PRIMARY KEY is the rowid.
POSTING_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Posting(CreatedAtMixin, Base):
    """One leg of an entry: ``amount_minor`` (signed) in the account's ``currency``."""

    __tablename__ = "postings"
    __table_args__ = (
        sa.CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        sa.CheckConstraint("length(currency) = 3", name="currency_code"),
        # Statements and as-of balances: one account's postings by value date.
        sa.Index("ix_postings_account_id_value_date_id", "account_id", "value_date", "id"),
        sa.Index("ix_postings_transaction_id", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(POSTING_ID, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transactions.id", ondelete="RESTRICT")
    )
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    value_date: Mapped[date] = mapped_column(sa.Date)

    def __repr__(self) -> str:
        return f"<Posting {self.id} tx={self.transaction_id} {self.amount_minor} {self.currency}>"
