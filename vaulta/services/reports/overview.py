"""Figures for the admin landing page, none of them a full scan: the customers and
customer accounts from ``figure_counters`` (kept up to date by triggers, see
vaulta/models/figure_counter.py), the pending payments through the payments' status index,
today's transactions through ``ix_transactions_created_at``, the latest by primary key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

import sqlalchemy as sa

from vaulta.models import FigureCounter, Payment, Transaction, utcnow
from vaulta.models.figure_counter import COUNT_CUSTOMER_ACCOUNTS, COUNT_CUSTOMERS
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services.unit_of_work import session


@dataclass(frozen=True)
class AdminSummary:
    customers: int
    accounts: int
    pending_payments: int
    transactions_today: int  # since 00:00 UTC, counted on ix_transactions_created_at
    recent: list[Transaction]


def counted(name: str) -> int:
    """A figure of ``figure_counters``: the sum of its shards (at most SHARDS rows read
    through the primary key), 0 before the first row."""
    total = session().scalar(
        sa.select(sa.func.coalesce(sa.func.sum(FigureCounter.value), 0)).where(
            FigureCounter.name == name
        )
    )
    return int(total or 0)


def admin_summary(recent: int = 10) -> AdminSummary:
    """The counters and the latest transactions. Today's transactions, not all of them:
    counting a table of millions of rows would scan it on every view."""
    s = session()
    today = utcnow().date()
    count = sa.func.count()
    return AdminSummary(
        customers=counted(COUNT_CUSTOMERS),
        accounts=counted(COUNT_CUSTOMER_ACCOUNTS),
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
