"""A customer's daily outgoing limit (``customers.daily_outgoing_limit_minor``).

One number per customer, applied separately in each currency and read in that currency's
minor units (a limit of 100000 allows 1,000.00 EUR and, separately, 1,000.00 USD a day);
None means no limit. The day is the UTC calendar day of the check.

What counts: the customer's payments in that currency created that day, from any of their
accounts, that are awaiting confirmation, pending approval or executed (refused, cancelled,
expired and failed ones do not). A payment is refused when that total plus its own amount
exceeds the limit: when it is made (``add_payment``: customer, staff, API, standing orders,
payment-file lines) and again when it is executed (one or many), where it does not count
itself. The sum reads ``ix_payments_from_account_id_created_at`` per account of the
customer (``ix_accounts_customer_id``): no scan of the payments table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, Payment
from vaulta.models.payment import PAYMENT_AWAITING, PAYMENT_EXECUTED, PAYMENT_PENDING
from vaulta.money import format_amount
from vaulta.services.errors import DailyLimitExceeded

COUNTED = (PAYMENT_AWAITING, PAYMENT_PENDING, PAYMENT_EXECUTED)


def day_start(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s UTC day."""
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def outgoing_of_day(
    s: Session,
    customer_id: int,
    currency: str,
    *,
    now: datetime,
    exclude_payment_id: int | None = None,
) -> int:
    """The customer's counted payments in ``currency`` created on ``now``'s UTC day."""
    start = day_start(now)
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount_minor), 0))
        .join(Account, Account.id == Payment.from_account_id)
        .where(
            Account.customer_id == customer_id,
            Payment.created_at >= start,
            Payment.created_at < start + timedelta(days=1),
            Payment.currency == currency,
            Payment.status.in_(COUNTED),
        )
    )
    if exclude_payment_id is not None:
        query = query.where(Payment.id != exclude_payment_id)
    return int(s.scalar(query) or 0)


def check(
    s: Session,
    customer_id: int | None,
    currency: str,
    amount_minor: int,
    *,
    now: datetime,
    exclude_payment_id: int | None = None,
) -> None:
    """DailyLimitExceeded when ``amount_minor`` more would exceed the customer's limit."""
    if customer_id is None:
        return
    limit = s.scalar(
        sa.select(Customer.daily_outgoing_limit_minor).where(Customer.id == customer_id)
    )
    check_against(
        s,
        customer_id,
        limit,
        currency,
        amount_minor,
        now=now,
        exclude_payment_id=exclude_payment_id,
    )


def check_against(
    s: Session,
    customer_id: int | None,
    limit: int | None,
    currency: str,
    amount_minor: int,
    *,
    now: datetime,
    exclude_payment_id: int | None = None,
) -> None:
    """``check`` when the customer's limit is known (read with a lock, say)."""
    if customer_id is None or limit is None:
        return
    total = outgoing_of_day(
        s, customer_id, currency, now=now, exclude_payment_id=exclude_payment_id
    )
    if total + amount_minor > limit:
        raise _exceeded(total + amount_minor, limit, currency)


def over_limit_many(
    s: Session, payment_ids: list[int], *, now: datetime
) -> dict[int, DailyLimitExceeded]:
    """The execution's check (``check_against`` without the payment itself) for many
    payments in one statement (a bulk decision runs the same
    statements for any number): the refusal of each payment that would exceed its
    customer's limit, by id. Each is checked against the other counted payments of the day,
    as if executed alone."""
    start = day_start(now)
    paying, owner, others = (
        sa.orm.aliased(Payment),
        sa.orm.aliased(Account),
        sa.orm.aliased(Payment),
    )
    siblings = sa.orm.aliased(Account)
    query = (
        sa.select(
            paying.id,
            paying.amount_minor,
            paying.currency,
            Customer.daily_outgoing_limit_minor,
            sa.func.coalesce(sa.func.sum(others.amount_minor), 0),
        )
        .select_from(paying)
        .join(owner, owner.id == paying.from_account_id)
        .join(Customer, Customer.id == owner.customer_id)
        .outerjoin(siblings, siblings.customer_id == Customer.id)
        .outerjoin(
            others,
            sa.and_(
                others.from_account_id == siblings.id,
                others.created_at >= start,
                others.created_at < start + timedelta(days=1),
                others.currency == paying.currency,
                others.status.in_(COUNTED),
                others.id != paying.id,
            ),
        )
        .where(paying.id.in_(payment_ids), Customer.daily_outgoing_limit_minor.is_not(None))
        .group_by(
            paying.id, paying.amount_minor, paying.currency, Customer.daily_outgoing_limit_minor
        )
    )
    refused = {}
    for payment_id, amount, currency, limit, total in s.execute(query):
        if int(total) + amount > limit:
            refused[payment_id] = _exceeded(int(total) + amount, limit, currency)
    return refused


def _exceeded(total: int, limit: int, currency: str) -> DailyLimitExceeded:
    return DailyLimitExceeded(
        f"This payment would bring today's outgoing payments in {currency} to "
        f"{format_amount(total, currency)}, above the daily limit of "
        f"{format_amount(limit, currency)}.",
        field="amount",
    )
