"""What the approval queue shows: pending payments, filtered and sorted, and their count.

A page is one statement that reads named rows (``QueueRow`` fields), not ORM objects: the
queue is the busiest admin page and shows 50 rows. Each statement is built once per shape
(sort, which filters are set, first page or not) with the values as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa

from vaulta.models import Account, ChangeRequest, Customer, Payment, utcnow
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.money import CURRENCY_EXPONENTS, AmountError, parse_decimal
from vaulta.services.errors import InvalidInput
from vaulta.services.unit_of_work import session

QUEUE_LIMIT = 50  # rows per page; "next" continues after the last row shown (keyset)
_BIGINT_MAX = 2**63 - 1


class QueueRow(NamedTuple):
    """One row of the queue: what the table shows of a payment (the page's rows are
    database rows with these names; ``row_of`` makes one from a loaded payment)."""

    id: int
    status: str
    created_at: datetime
    customer_name: str
    customer_number: str
    from_number: str
    to_number: str | None  # a VAULTA beneficiary account …
    to_owner: str | None  # … and its customer (None for a system account)
    beneficiary_name: str | None  # or an external beneficiary
    beneficiary_iban: str | None
    amount_minor: int
    currency: str
    reference: str
    levels_approved: int  # of its change request (0 before payments had them) …
    levels_required: int  # … out of this many approvals


@dataclass(frozen=True)
class QueueFilter:
    currency: str = ""
    min_amount: str = ""
    max_amount: str = ""
    customer: str = ""
    sort: str = "oldest"
    after: str = ""  # the id of the last payment of the previous page ("" = first page)


# Core tables, not ORM entities: the page reads plain rows, and a Core statement skips the
# ORM's result layer (about 50 µs a page).
_PAYMENTS = Payment.__table__
_CUSTOMERS = Customer.__table__
_SOURCE = Account.__table__.alias("source")
_TARGET = Account.__table__.alias("target")
_OWNER = Customer.__table__.alias("owner")
_REQUESTS = ChangeRequest.__table__

# Each sort: (column, descending) pairs, the payment id last so that the order is total.
SORTS: dict[str, tuple[tuple[sa.ColumnElement[Any], bool], ...]] = {
    "oldest": ((_PAYMENTS.c.created_at, False), (_PAYMENTS.c.id, False)),
    "newest": ((_PAYMENTS.c.created_at, True), (_PAYMENTS.c.id, True)),
    "amount_desc": ((_PAYMENTS.c.amount_minor, True), (_PAYMENTS.c.id, False)),
    "amount_asc": ((_PAYMENTS.c.amount_minor, False), (_PAYMENTS.c.id, False)),
    "customer": ((_CUSTOMERS.c.full_name, False), (_PAYMENTS.c.id, False)),
}


def row_of(payment: Payment) -> QueueRow:
    """The queue row of one loaded payment (a row swapped in after a decision)."""
    request = (
        session().get(ChangeRequest, payment.change_request_id, populate_existing=True)
        if payment.change_request_id is not None
        else None
    )
    source = payment.from_account
    target = payment.beneficiary_account
    owner = target.customer if target is not None else None
    return QueueRow(
        id=payment.id,
        status=payment.status,
        created_at=payment.created_at,
        customer_name=source.customer.full_name if source.customer else "",
        customer_number=source.customer.customer_number if source.customer else "",
        from_number=source.number,
        to_number=target.number if target is not None else None,
        to_owner=owner.full_name if owner is not None else None,
        beneficiary_name=payment.beneficiary_name,
        beneficiary_iban=payment.beneficiary_iban,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        reference=payment.reference,
        levels_approved=request.levels_approved if request else 0,
        levels_required=request.levels_required if request else 1,
    )


def _decimal(text: str, field: str) -> Decimal | None:
    """A filter amount in major units, by the one amount grammar (vaulta/money.py)."""
    if not (text or "").strip():
        return None
    try:
        return parse_decimal(text)
    except AmountError as err:
        raise InvalidInput(str(err), field=field) from None


def _amount_condition(prefix: str, *, at_least: bool) -> sa.ColumnElement[bool]:
    """Compare in each currency's own minor units (2 decimals for EUR, 0 for JPY …): one
    bound parameter per currency, ``{prefix}_{currency}``."""
    conditions = []
    for currency in CURRENCY_EXPONENTS:
        minor = sa.bindparam(f"{prefix}_{currency}", type_=sa.BigInteger)
        amount = _PAYMENTS.c.amount_minor
        bound = amount >= minor if at_least else amount <= minor
        conditions.append(sa.and_(_PAYMENTS.c.currency == currency, bound))
    return sa.or_(*conditions)


def _minor_params(prefix: str, value: Decimal, *, at_least: bool) -> dict[str, int]:
    """The bound ``value`` in each currency's minor units, at most the largest BIGINT (a
    longer number would not fit the parameter; no amount is larger). A minimum rounds up
    and a maximum down, so "at least 10.005" never lets 10.00 EUR in."""
    value = min(value, Decimal(_BIGINT_MAX))
    rounding = ROUND_CEILING if at_least else ROUND_FLOOR
    return {
        f"{prefix}_{currency}": min(
            int(value.scaleb(places).to_integral_value(rounding=rounding)), _BIGINT_MAX
        )
        for currency, places in CURRENCY_EXPONENTS.items()
    }


def pending(filters: QueueFilter | None = None) -> list[Any]:
    """One page of pending payments (not those past their expiry), oldest first unless
    sorted otherwise: rows with QueueRow's fields, in its order."""
    return pending_page(filters)[0]


def pending_page(filters: QueueFilter | None = None) -> tuple[list[Any], int | None]:
    """One page of pending payments and the id to continue after (None on the last page).

    Payments past their expiry are left out, not marked: marking is a write, and a page
    view should not need one (``flask vaulta expire-payments``, a payment's own page and
    an approval attempt mark them). Statements: the page and, on later pages, the
    anchor's sort values.
    """
    filters = filters or QueueFilter()
    low = _decimal(filters.min_amount, "min_amount")
    high = _decimal(filters.max_amount, "max_amount")
    sort = filters.sort if filters.sort in SORTS else "oldest"
    term = (filters.customer or "").strip()
    params: dict[str, object] = {"now": utcnow()}
    if filters.currency:
        params["currency"] = filters.currency.upper()
    if low is not None:
        params.update(_minor_params("low", low, at_least=True))
    if high is not None:
        params.update(_minor_params("high", high, at_least=False))
    if term:
        params.update(pattern=f"%{_escape(term)}%", number=term.upper(), account=term)
    s = session()
    after = _int(filters.after)
    anchor = s.execute(_anchor_query(sort), {"after": after}).first() if after else None
    if anchor is not None:
        params.update(anchor_first=anchor[0], anchor_second=anchor[1])
    shape = (sort, "currency" in params, low is not None, high is not None, bool(term))
    query = _page_query(*shape, after=anchor is not None, limit=QUEUE_LIMIT + 1)
    # The database rows as they come, in QueueRow's column order: the template unpacks
    # each row into its fields (no attribute lookups), so copying 50 rows into QueueRow
    # tuples would cost more (a quarter of this function) and buy nothing.
    rows: list[Any] = list(s.execute(query, params).all())
    more = len(rows) > QUEUE_LIMIT
    return rows[:QUEUE_LIMIT], rows[QUEUE_LIMIT - 1].id if more else None


def _joined(query: sa.Select[Any]) -> sa.Select[Any]:
    return query.join(_SOURCE, _SOURCE.c.id == _PAYMENTS.c.from_account_id).join(
        _CUSTOMERS, _CUSTOMERS.c.id == _SOURCE.c.customer_id
    )


# Not past its expiry, written so that no index serves it: with a plain ``expires_at > :now``
# SQLite's planner prefers the (status, expires_at) index, reads every pending payment and
# sorts them (24 ms at 10,000), instead of walking (status, created_at) to the page's end.
_NOT_EXPIRED = (
    _PAYMENTS.c.expires_at > sa.bindparam("now", type_=_PAYMENTS.c.expires_at.type)
).is_(sa.true())


@lru_cache(maxsize=64)
def _page_query(
    sort: str, currency: bool, low: bool, high: bool, term: bool, *, after: bool, limit: int
) -> sa.Select[Any]:
    """The page statement of one shape, its columns in ``QueueRow`` order. Bound parameters:
    now (expired payments are left out) and, as the shape asks: currency, low_*/high_*
    (minor units per currency), pattern/number/account, anchor_first/anchor_second.

    The limit is written into the SQL: with ``LIMIT $1`` PostgreSQL's generic plan for the
    prepared statement (psycopg prepares a statement from its fifth run) costs about three
    times the custom one."""
    query = _joined(
        sa.select(
            _PAYMENTS.c.id,
            _PAYMENTS.c.status,
            _PAYMENTS.c.created_at,
            _CUSTOMERS.c.full_name.label("customer_name"),
            _CUSTOMERS.c.customer_number,
            _SOURCE.c.number.label("from_number"),
            _TARGET.c.number.label("to_number"),
            _OWNER.c.full_name.label("to_owner"),
            _PAYMENTS.c.beneficiary_name,
            _PAYMENTS.c.beneficiary_iban,
            _PAYMENTS.c.amount_minor,
            _PAYMENTS.c.currency,
            _PAYMENTS.c.reference,
            sa.func.coalesce(_REQUESTS.c.levels_approved, 0).label("levels_approved"),
            sa.func.coalesce(_REQUESTS.c.levels_required, 1).label("levels_required"),
        ).select_from(_PAYMENTS)
    )
    query = (
        query.outerjoin(_TARGET, _TARGET.c.id == _PAYMENTS.c.beneficiary_account_id)
        .outerjoin(_REQUESTS, _REQUESTS.c.id == _PAYMENTS.c.change_request_id)
        .outerjoin(_OWNER, _OWNER.c.id == _TARGET.c.customer_id)
        .where(_PAYMENTS.c.status == PAYMENT_PENDING, _NOT_EXPIRED)
    )
    if currency:
        query = query.where(_PAYMENTS.c.currency == sa.bindparam("currency", type_=sa.String))
    if low:
        query = query.where(_amount_condition("low", at_least=True))
    if high:
        query = query.where(_amount_condition("high", at_least=False))
    if term:
        query = query.where(
            sa.or_(
                _CUSTOMERS.c.full_name.ilike(sa.bindparam("pattern", type_=sa.String), escape="\\"),
                _CUSTOMERS.c.customer_number == sa.bindparam("number", type_=sa.String),
                _SOURCE.c.number == sa.bindparam("account", type_=sa.String),
            )
        )
    keys = SORTS[sort]
    if after:
        query = query.where(_after_condition(keys))
    order = [c.desc() if d else c.asc() for c, d in keys]
    return query.order_by(*order).limit(sa.literal_column(str(int(limit))))


def _int(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


@lru_cache(maxsize=8)
def _anchor_query(sort: str) -> sa.Select[Any]:
    """The sort values of payment ``after`` (bound parameter), the anchor of a later page."""
    keys = SORTS[sort]
    query = sa.select(*(c for c, _d in keys)).select_from(_PAYMENTS)
    return _joined(query).where(_PAYMENTS.c.id == sa.bindparam("after", type_=sa.Integer))


def _after_condition(
    keys: tuple[tuple[sa.ColumnElement[Any], bool], ...],
) -> sa.ColumnElement[bool]:
    """Rows that sort after the anchor (bound parameters anchor_first, anchor_second).

    The first term alone (``>=`` or ``<=``) repeats what the rest implies, so that an index
    on the first sort column can start at the anchor instead of reading the earlier pages."""
    (first, first_desc), (second, second_desc) = keys
    anchor_first = sa.bindparam("anchor_first", type_=first.type)
    anchor_second = sa.bindparam("anchor_second", type_=second.type)
    from_anchor = first <= anchor_first if first_desc else first >= anchor_first
    beyond_first = first < anchor_first if first_desc else first > anchor_first
    beyond_second = second < anchor_second if second_desc else second > anchor_second
    return sa.and_(from_anchor, sa.or_(beyond_first, sa.and_(first == anchor_first, beyond_second)))


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pending_count(*, at_most: int | None = None) -> int:
    """How many payments wait for approval, counting no further than ``at_most``: the nav
    badge asks on every page, and counting 10,000 index entries each time costs
    milliseconds where stopping at 100 costs microseconds."""
    waiting = sa.select(Payment.id).where(
        Payment.status == PAYMENT_PENDING, Payment.expires_at > utcnow()
    )
    if at_most is not None:
        waiting = waiting.limit(at_most)
    counted = sa.select(sa.func.count()).select_from(waiting.subquery())
    return int(session().scalar(counted) or 0)
