"""Figures for the admin landing page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

import sqlalchemy as sa

from vaulta.models import Account, Customer, Payment, Transaction, utcnow
from vaulta.models.account import KIND_CUSTOMER
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services.unit_of_work import session


@dataclass(frozen=True)
class AdminSummary:
    customers: int
    accounts: int
    pending_payments: int
    transactions_today: int  # since 00:00 UTC, counted on ix_transactions_created_at
    recent: list[Transaction]


def admin_summary(recent: int = 10) -> AdminSummary:
    """The counters and the latest transactions. Today's transactions, not all of them:
    counting a table of millions of rows would scan it on every view."""
    s = session()
    today = utcnow().date()
    count = sa.func.count()
    return AdminSummary(
        customers=s.scalar(sa.select(count).select_from(Customer)) or 0,
        accounts=s.scalar(sa.select(count).where(Account.kind == KIND_CUSTOMER)) or 0,
        pending_payments=s.scalar(sa.select(count).where(Payment.status == PAYMENT_PENDING)) or 0,
        transactions_today=s.scalar(
            sa.select(count).where(Transaction.created_at >= datetime.combine(today, time.min, UTC))
        )
        or 0,
        recent=list(
            s.scalars(
                sa.select(Transaction)
                .options(
                    sa.orm.joinedload(Transaction.debit_account),
                    sa.orm.joinedload(Transaction.credit_account),
                )
                .order_by(Transaction.id.desc())
                .limit(recent)
            )
        ),
    )
