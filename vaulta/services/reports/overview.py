"""Figures for the admin landing page."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vaulta.models import Account, Customer, Payment, Transaction
from vaulta.models.account import KIND_CUSTOMER
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.services.unit_of_work import session


@dataclass(frozen=True)
class AdminSummary:
    customers: int
    accounts: int
    pending_payments: int
    transactions: int
    recent: list[Transaction]


def admin_summary(recent: int = 10) -> AdminSummary:
    s = session()
    count = sa.func.count()
    return AdminSummary(
        customers=s.scalar(sa.select(count).select_from(Customer)) or 0,
        accounts=s.scalar(sa.select(count).where(Account.kind == KIND_CUSTOMER)) or 0,
        pending_payments=s.scalar(sa.select(count).where(Payment.status == PAYMENT_PENDING)) or 0,
        transactions=s.scalar(sa.select(count).select_from(Transaction)) or 0,
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
