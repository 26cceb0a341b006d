"""Reading the FX rate registry for the admin page (Core rows): the rates in force now,
one per pair, and the history newest first in keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Row

from vaulta.models import FxRate, User, utcnow
from vaulta.services.unit_of_work import session

_r = FxRate.__table__
_u = User.__table__
COLUMNS = (
    _r.c.id,
    _r.c.base,
    _r.c.quote,
    _r.c.rate,
    _r.c.source,
    _r.c.valid_from,
    _r.c.created_at,
    _u.c.email.label("created_by"),
)


@dataclass(frozen=True)
class RatePage:
    rows: list[Row[tuple[object, ...]]]
    next_before_id: int | None


def _filtered(query: sa.Select, base: str | None, quote: str | None) -> sa.Select:
    if base:
        query = query.where(_r.c.base == base)
    if quote:
        query = query.where(_r.c.quote == quote)
    return query


def rates_in_force(
    *, base: str | None = None, quote: str | None = None, at: datetime | None = None
) -> list[Row[tuple[object, ...]]]:
    """Each pair's rate in force at ``at`` (now), by pair."""
    at = at or utcnow()
    latest = (
        sa.select(_r.c.base, _r.c.quote, sa.func.max(_r.c.valid_from).label("valid_from"))
        .where(_r.c.valid_from <= at)
        .group_by(_r.c.base, _r.c.quote)
        .subquery()
    )
    query = (
        sa.select(*COLUMNS)
        .join(
            latest,
            sa.and_(
                latest.c.base == _r.c.base,
                latest.c.quote == _r.c.quote,
                latest.c.valid_from == _r.c.valid_from,
            ),
        )
        .outerjoin(_u, _u.c.id == _r.c.created_by_id)
        .order_by(_r.c.base, _r.c.quote)
    )
    return list(session().execute(_filtered(query, base, quote)))


def rate_history(
    *,
    base: str | None = None,
    quote: str | None = None,
    before_id: int | None = None,
    limit: int = 25,
) -> RatePage:
    """Every imported rate (future ones included), newest import first; the next page is
    ``before_id=next_before_id``."""
    query = (
        sa.select(*COLUMNS)
        .outerjoin(_u, _u.c.id == _r.c.created_by_id)
        .order_by(_r.c.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(_r.c.id < before_id)
    rows = list(session().execute(_filtered(query, base, quote)))
    more = len(rows) > limit
    rows = rows[:limit]
    return RatePage(rows, rows[-1].id if more and rows else None)
