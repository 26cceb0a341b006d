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

# Each sort: (column, descending) pairs, the payment id last so that the order is total.
SORTS: dict[str, tuple[tuple[sa.ColumnElement[object], bool], ...]] = {
    "oldest": ((Payment.created_at, False), (Payment.id, False)),
    "newest": ((Payment.created_at, True), (Payment.id, True)),
    "amount_desc": ((Payment.amount_minor, True), (Payment.id, False)),
    "amount_asc": ((Payment.amount_minor, False), (Payment.id, False)),
    "customer": ((Customer.full_name, False), (Payment.id, False)),
}
QUEUE_LIMIT = 50  # rows per page; "next" continues after the last row shown (keyset)


@dataclass(frozen=True)
class QueueFilter:
    currency: str = ""
    min_amount: str = ""
    max_amount: str = ""
    customer: str = ""
    sort: str = "oldest"
    after: str = ""  # the id of the last payment of the previous page ("" = first page)


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
    """One page of pending payments (expired ones are marked first), oldest first unless
    sorted otherwise."""
    return pending_page(filters)[0]


def pending_page(filters: QueueFilter | None = None) -> tuple[list[Payment], int | None]:
    """One page of pending payments and the id to continue after (None on the last page)."""
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
    keys = SORTS.get(filters.sort, SORTS["oldest"])
    after = _after_condition(keys, _int(filters.after))
    if after is not None:
        query = query.where(after)
    query = query.order_by(*(c.desc() if d else c.asc() for c, d in keys)).limit(QUEUE_LIMIT + 1)
    rows = list(session().scalars(query).unique())
    more = len(rows) > QUEUE_LIMIT
    return rows[:QUEUE_LIMIT], rows[QUEUE_LIMIT - 1].id if more else None


def _int(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


def _after_condition(
    keys: tuple[tuple[sa.ColumnElement[object], bool], ...], after: int | None
) -> sa.ColumnElement[bool] | None:
    """Rows that sort after payment ``after`` (keyset paging); None without a known anchor."""
    if after is None:
        return None
    source = aliased(Account)
    anchor = (
        session()
        .execute(
            sa.select(*(c for c, _d in keys))
            .select_from(Payment)
            .join(source, source.id == Payment.from_account_id)
            .join(Customer, Customer.id == source.customer_id)
            .where(Payment.id == after)
        )
        .first()
    )
    if anchor is None:
        return None
    (first, first_desc), (second, second_desc) = keys
    beyond_first = first < anchor[0] if first_desc else first > anchor[0]
    beyond_second = second < anchor[1] if second_desc else second > anchor[1]
    return sa.or_(beyond_first, sa.and_(first == anchor[0], beyond_second))


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
