"""The staff dashboard's figures (queries only, Core rows).

Every query reads a bounded, indexed range, never a whole table:

- payments per day: ``status IN (…) AND created_at >= start`` on ``ix_payments_status_created_at``
  (one index range per status), grouped by UTC day, currency and status;
- the approval backlog: ``status = 'pending_approval'`` on the same index, counted into
  age buckets in one statement;
- time to decision: decided payments requested in the window (same index), percentiles
  computed here per week of decision;
- balances by currency: what customers hold in a currency is what the bank's system
  account of that currency owes (every currency's balances sum to zero, which
  ``verify-ledger`` checks), so it is one row per currency on ``uq_accounts_system_currency``;
- the day's largest movements: ``created_at >= today`` on ``ix_transactions_created_at``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from vaulta.models import Account, Payment, Transaction, utcnow
from vaulta.models.account import BANK_KINDS
from vaulta.models.payment import (
    PAYMENT_EXECUTED,
    PAYMENT_FAILED,
    PAYMENT_PENDING,
    PAYMENT_REJECTED,
    PAYMENT_STATUSES,
)
from vaulta.services.reports.calendar import day_of, utc_day
from vaulta.services.unit_of_work import session

_p = Payment.__table__
_t = Transaction.__table__
_a = Account.__table__
DECIDED = (PAYMENT_EXECUTED, PAYMENT_REJECTED, PAYMENT_FAILED)
REQUEST_LOOKBACK_DAYS = 31
# Age buckets of the approval backlog: (label, upper bound of the age).
BACKLOG_AGES: tuple[tuple[str, timedelta | None], ...] = (
    ("under 1 hour", timedelta(hours=1)),
    ("1 to 24 hours", timedelta(days=1)),
    ("1 to 3 days", timedelta(days=3)),
    ("3 to 7 days", timedelta(days=7)),
    ("over 7 days", None),
)


class PaymentDay(NamedTuple):
    day: date
    currency: str
    status: str
    count: int
    amount_minor: int


class Backlog(NamedTuple):
    buckets: list[tuple[str, int]]
    total: int
    oldest_at: datetime | None


class DecisionWeek(NamedTuple):
    week: date  # the Monday
    decided: int
    median_seconds: float
    p90_seconds: float


class CurrencyBalance(NamedTuple):
    currency: str
    customer_total_minor: int


class Movement(NamedTuple):
    id: int
    created_at: datetime
    kind: str
    description: str
    amount_minor: int
    currency: str
    debit: str
    credit: str


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def payments_per_day(days: int, *, today: date | None = None) -> list[PaymentDay]:
    """Payments requested in the last ``days`` days (today included), by UTC day,
    currency and status: how many and for how much."""
    start = _midnight((today or utcnow().date()) - timedelta(days=days - 1))
    day = utc_day(_p.c.created_at)
    rows = session().execute(
        sa.select(
            day,
            _p.c.currency,
            _p.c.status,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(_p.c.amount_minor), 0),
        )
        .where(_p.c.status.in_(PAYMENT_STATUSES), _p.c.created_at >= start)
        .group_by(day, _p.c.currency, _p.c.status)
        .order_by(day, _p.c.currency, _p.c.status)
    )
    return [PaymentDay(day_of(d), c, s, int(n), int(total)) for d, c, s, n, total in rows]


def approval_backlog(*, now: datetime | None = None) -> Backlog:
    """The payments waiting for approval, counted by how long they have waited."""
    now = now or utcnow()
    created = _p.c.created_at
    columns: list[sa.ColumnElement[int]] = []
    newer_than: datetime | None = None
    for _label, age in BACKLOG_AGES:
        conditions = [] if newer_than is None else [created <= newer_than]
        if age is not None:
            conditions.append(created > now - age)
        columns.append(sa.func.count().filter(sa.and_(sa.true(), *conditions)))
        newer_than = None if age is None else now - age
    row = (
        session()
        .execute(sa.select(sa.func.min(created), *columns).where(_p.c.status == PAYMENT_PENDING))
        .one()
    )
    counts = [int(n) for n in row[1:]]
    labels = [label for label, _age in BACKLOG_AGES]
    return Backlog(list(zip(labels, counts, strict=True)), sum(counts), row[0])


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of a sorted, non-empty list."""
    rank = max(1, -(-len(sorted_values) * share // 1))
    return sorted_values[int(rank) - 1]


def decision_times(weeks: int, *, now: datetime | None = None) -> list[DecisionWeek]:
    """Time from request (confirmation) to decision of the payments staff decided in the
    last ``weeks`` weeks, per week of decision: median and 90th percentile, in seconds."""
    now = now or utcnow()
    monday = now.date() - timedelta(days=now.weekday())
    first_week = monday - timedelta(weeks=weeks - 1)
    start = _midnight(first_week)
    decided_at = sa.func.coalesce(_p.c.approved_at, _p.c.decided_at)
    requested_at = sa.func.coalesce(_p.c.confirmed_at, _p.c.created_at)
    rows = session().execute(
        sa.select(requested_at, decided_at).where(
            _p.c.status.in_(DECIDED),
            # Requested at most 31 days before the first week (indexed; an unapproved
            # payment expires after PAYMENT_EXPIRY_DAYS, 7 by default) …
            _p.c.created_at >= start - timedelta(days=REQUEST_LOOKBACK_DAYS),
            decided_at >= start,  # … and decided in the window.
        )
    )
    waits: dict[date, list[float]] = defaultdict(list)
    for requested, decided in rows:
        if requested is None or decided is None:
            continue
        requested, decided = _aware(requested), _aware(decided)
        week = decided.date() - timedelta(days=decided.weekday())
        waits[week].append(max(0.0, (decided - requested).total_seconds()))
    result = []
    for n in range(weeks):
        week = first_week + timedelta(weeks=n)
        values = sorted(waits.get(week, []))
        if values:
            median, p90 = percentile(values, 0.5), percentile(values, 0.9)
        else:
            median = p90 = 0.0
        result.append(DecisionWeek(week, len(values), median, p90))
    return result


def _aware(value: datetime | str) -> datetime:
    """``coalesce`` hides the column type from SQLAlchemy: SQLite then gives text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def balances_by_currency() -> list[CurrencyBalance]:
    """What customers hold in each currency: the bank's own accounts' balances (system and
    FX position), negated."""
    rows = session().execute(
        sa.select(_a.c.currency, -sa.func.sum(_a.c.balance_minor))
        .where(_a.c.kind.in_(BANK_KINDS))
        .group_by(_a.c.currency)
        .order_by(_a.c.currency)
    )
    return [CurrencyBalance(currency, int(total)) for currency, total in rows]


def largest_movements(limit: int = 10, *, today: date | None = None) -> list[Movement]:
    """Today's (UTC) largest transactions by amount."""
    debit, credit = _a.alias("debit"), _a.alias("credit")
    rows = session().execute(
        sa.select(
            _t.c.id,
            _t.c.created_at,
            _t.c.kind,
            _t.c.description,
            _t.c.amount_minor,
            _t.c.currency,
            debit.c.number,
            credit.c.number,
        )
        .join(debit, debit.c.id == _t.c.debit_account_id)
        .join(credit, credit.c.id == _t.c.credit_account_id)
        .where(_t.c.created_at >= _midnight(today or utcnow().date()))
        .order_by(_t.c.amount_minor.desc(), _t.c.id.desc())
        .limit(limit)
    )
    return [Movement(*row) for row in rows]
