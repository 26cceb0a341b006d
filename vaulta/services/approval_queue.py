"""What the approval queue shows: pending payments, filtered and sorted, and their count."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import aliased, contains_eager, joinedload

from vaulta.models import Account, Customer, Payment, utcnow
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.money import CURRENCY_EXPONENTS
from vaulta.services import payments
from vaulta.services.db import session
from vaulta.services.errors import InvalidInput

SORTS = {
    "oldest": (Payment.created_at.asc(), Payment.id.asc()),
    "newest": (Payment.created_at.desc(), Payment.id.desc()),
    "amount_desc": (Payment.amount_minor.desc(), Payment.id.asc()),
    "amount_asc": (Payment.amount_minor.asc(), Payment.id.asc()),
    "customer": (Customer.full_name.asc(), Payment.id.asc()),
}
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueFilter:
    currency: str = ""
    min_amount: str = ""
    max_amount: str = ""
    customer: str = ""
    sort: str = "oldest"


def _decimal(text: str, field: str) -> Decimal | None:
    cleaned = (text or "").strip().replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput("Enter an amount like 100 or 12.50.", field=field) from None
    if not value.is_finite() or value < 0:
        raise InvalidInput("Enter an amount like 100 or 12.50.", field=field)
    return value


def _amount_condition(value: Decimal, *, at_least: bool) -> sa.ColumnElement[bool]:
    """Compare in each currency's own minor units (2 decimals for EUR, 0 for JPY …)."""
    conditions = []
    for currency, places in CURRENCY_EXPONENTS.items():
        minor = int(value.scaleb(places).to_integral_value())
        bound = Payment.amount_minor >= minor if at_least else Payment.amount_minor <= minor
        conditions.append(sa.and_(Payment.currency == currency, bound))
    return sa.or_(*conditions)


def pending(filters: QueueFilter | None = None) -> list[Payment]:
    """Pending payments (expired ones are marked first), oldest first unless sorted otherwise."""
    filters = filters or QueueFilter()
    payments.expire_due()
    source = aliased(Account)
    query = (
        sa.select(Payment)
        .join(source, source.id == Payment.from_account_id)
        .join(Customer, Customer.id == source.customer_id)
        .where(Payment.status == PAYMENT_PENDING)
        .options(
            # The source account and its customer come from the joins above (no second join).
            contains_eager(Payment.from_account.of_type(source)).contains_eager(source.customer),
            joinedload(Payment.beneficiary_account).joinedload(Account.customer),
        )
    )
    if filters.currency:
        query = query.where(Payment.currency == filters.currency.upper())
    low = _decimal(filters.min_amount, "min_amount")
    high = _decimal(filters.max_amount, "max_amount")
    if low is not None:
        query = query.where(_amount_condition(low, at_least=True))
    if high is not None:
        query = query.where(_amount_condition(high, at_least=False))
    term = (filters.customer or "").strip()
    if term:
        query = query.where(
            sa.or_(
                Customer.full_name.ilike(f"%{_escape(term)}%", escape="\\"),
                Customer.customer_number == term.upper(),
                source.number == term,
            )
        )
    query = query.order_by(*SORTS.get(filters.sort, SORTS["oldest"])).limit(QUEUE_LIMIT)
    return list(session().scalars(query).unique())


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pending_count() -> int:
    return int(
        session().scalar(
            sa.select(sa.func.count())
            .select_from(Payment)
            .where(Payment.status == PAYMENT_PENDING, Payment.expires_at > utcnow())
        )
        or 0
    )
