"""What the inbox, the makers' list and the API read about change requests (Core rows).

A request a user may decide now (``decidable_for``): pending and not past its expiry, not
made by them, not decided by them before, and their roles include one the request allows
at its next level. Which roles a level allows is a JSON list on the row, so that last test
is made here in Python over the rows SQL already narrowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from vaulta.models import ChangeDecision, ChangeRequest, Customer, User, utcnow
from vaulta.models.change_request import CR_PENDING
from vaulta.services import audit
from vaulta.services.changes.change_requests import DECIDE, get
from vaulta.services.identity import permissions
from vaulta.services.unit_of_work import session

LIMIT = 50
EXPORT_PAGE = 500  # rows read per statement by the exports' iterators
_CR = ChangeRequest.__table__
_MAKER = User.__table__.alias("maker")
_CUSTOMER = Customer.__table__
_DECISIONS = ChangeDecision.__table__
_DECIDER = User.__table__.alias("decider")

COLUMNS = (
    _CR.c.id,
    _CR.c.action,
    _CR.c.status,
    _CR.c.summary,
    _CR.c.target_type,
    _CR.c.target_id,
    _CR.c.customer_id,
    _CUSTOMER.c.full_name.label("customer_name"),
    _CUSTOMER.c.customer_number,
    _CR.c.amount_minor,
    _CR.c.currency,
    _CR.c.beneficiary,
    _CR.c.maker_id,
    _MAKER.c.full_name.label("maker_name"),
    _MAKER.c.email.label("maker_email"),
    _CR.c.levels_required,
    _CR.c.levels_approved,
    _CR.c.roles_per_level,
    _CR.c.step_up_levels,
    _CR.c.bulk_allowed,
    _CR.c.policy_version,
    _CR.c.created_at,
    _CR.c.expires_at,
    _CR.c.decided_at,
    _CR.c.failure_reason,
)
_FROM = _CR.join(_MAKER, _MAKER.c.id == _CR.c.maker_id).outerjoin(
    _CUSTOMER, _CUSTOMER.c.id == _CR.c.customer_id
)


@dataclass(frozen=True)
class InboxFilters:
    """Filters of the inbox; amounts in minor units (the web layer parses them)."""

    action: str | None = None
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    currency: str | None = None
    customer_id: int | None = None
    maker_id: int | None = None
    older_than_hours: int | None = None


def _conditions(filters: InboxFilters, now: datetime) -> list[sa.ColumnElement[bool]]:
    found: list[sa.ColumnElement[bool]] = []
    if filters.action:
        found.append(_CR.c.action == filters.action)
    if filters.min_amount_minor is not None:
        found.append(_CR.c.amount_minor >= filters.min_amount_minor)
    if filters.max_amount_minor is not None:
        found.append(_CR.c.amount_minor <= filters.max_amount_minor)
    if filters.currency:
        found.append(_CR.c.currency == filters.currency)
    if filters.customer_id is not None:
        found.append(_CR.c.customer_id == filters.customer_id)
    if filters.maker_id is not None:
        found.append(_CR.c.maker_id == filters.maker_id)
    if filters.older_than_hours is not None:
        found.append(_CR.c.created_at <= now - timedelta(hours=filters.older_than_hours))
    return found


def allowed_at_next_level(row: Any, roles: frozenset[str]) -> bool:
    """Whether ``roles`` include one that ``row`` (a request or its row) allows next."""
    levels = row.roles_per_level or [[]]
    allowed = levels[min(row.levels_approved + 1, len(levels)) - 1]
    return bool(roles & set(allowed))


def _open_for(user: User, now: datetime) -> sa.Select[Any]:
    user_id = audit.actor_id(user)
    decided = sa.select(_DECISIONS.c.request_id).where(
        _DECISIONS.c.request_id == _CR.c.id, _DECISIONS.c.decider_id == user_id
    )
    return (
        sa.select(*COLUMNS)
        .select_from(_FROM)
        .where(
            _CR.c.status == CR_PENDING,
            _CR.c.expires_at > now,
            _CR.c.maker_id != user_id,
            ~sa.exists(decided),
        )
    )


def decidable_for(
    user: User,
    *,
    filters: InboxFilters | None = None,
    limit: int = LIMIT,
    after_id: int | None = None,
    before_id: int | None = None,
) -> list[Any]:
    """The requests ``user`` may decide now, oldest first (rows with COLUMNS' names).

    The next page continues with ``after_id`` = the last id shown; ``before_id`` keeps
    only older requests (ids below it). Nothing for a user without ``requests.decide``.
    """
    if not permissions.has_permission(user, DECIDE):
        return []
    now = utcnow()
    roles = permissions.roles_of(user)
    query = _open_for(user, now).where(*_conditions(filters or InboxFilters(), now))
    if before_id is not None:
        query = query.where(_CR.c.id < before_id)
    found: list[Any] = []
    last = after_id
    batch = max(limit * 2, 20)
    while len(found) < limit:
        page = query.order_by(_CR.c.id).limit(batch)
        if last is not None:
            page = page.where(_CR.c.id > last)
        rows = session().execute(page).all()
        found += [row for row in rows if allowed_at_next_level(row, roles)]
        if len(rows) < batch:
            break
        last = rows[-1].id
    return found[:limit]


def decidable_count(user: User) -> int:
    """How many requests ``user`` may decide now (the navigation's count)."""
    if not permissions.has_permission(user, DECIDE):
        return 0
    roles = permissions.roles_of(user)
    rows = session().execute(
        _open_for(user, utcnow()).with_only_columns(
            _CR.c.id, _CR.c.levels_approved, _CR.c.roles_per_level
        )
    )
    return sum(1 for row in rows if allowed_at_next_level(row, roles))


def made_by(
    user: User, status: str | None = None, *, limit: int = LIMIT, before_id: int | None = None
) -> list[Any]:
    """The requests ``user`` made, newest first (optionally with one ``status``)."""
    query = sa.select(*COLUMNS).select_from(_FROM).where(_CR.c.maker_id == audit.actor_id(user))
    if status:
        query = query.where(_CR.c.status == status)
    if before_id is not None:
        query = query.where(_CR.c.id < before_id)
    return list(session().execute(query.order_by(_CR.c.id.desc()).limit(limit)).all())


def pending_count_made_by(user: User) -> int:
    """How many of ``user``'s own requests are pending."""
    query = sa.select(sa.func.count()).where(
        _CR.c.maker_id == audit.actor_id(user), _CR.c.status == CR_PENDING
    )
    return int(session().scalar(query) or 0)


@dataclass(frozen=True)
class RequestDetail:
    """One request (the ORM object: its ``change`` holds before/after) and its decisions
    (rows: level, decision, reason, step_up_used, policy_version, decided_at,
    decider_id, decider_name, decider_email), first level first."""

    request: ChangeRequest
    decisions: list[Any]


def request_detail(request_id: int) -> RequestDetail:
    """The request (expired first if its time has passed; NotFound) and its decisions."""
    request = get(request_id)
    rows = session().execute(
        sa.select(
            _DECISIONS.c.level,
            _DECISIONS.c.decision,
            _DECISIONS.c.reason,
            _DECISIONS.c.step_up_used,
            _DECISIONS.c.policy_version,
            _DECISIONS.c.decided_at,
            _DECISIONS.c.decider_id,
            _DECIDER.c.full_name.label("decider_name"),
            _DECIDER.c.email.label("decider_email"),
        )
        .select_from(_DECISIONS.join(_DECIDER, _DECIDER.c.id == _DECISIONS.c.decider_id))
        .where(_DECISIONS.c.request_id == request_id)
        .order_by(_DECISIONS.c.level)
    )
    return RequestDetail(request=request, decisions=list(rows.all()))


def pending_duplicate(dedupe_key: str) -> int | None:
    """The id of the pending request with this dedupe key, if there is one."""
    return session().scalar(
        sa.select(_CR.c.id).where(_CR.c.dedupe_key == dedupe_key, _CR.c.status == CR_PENDING)
    )


def iter_decidable(user: User, filters: InboxFilters | None = None) -> Iterator[Any]:
    """Every request ``user`` may decide now with ``filters``, oldest first, page by page
    (the inbox's export)."""
    after: int | None = None
    while True:
        page = decidable_for(user, filters=filters, after_id=after, limit=EXPORT_PAGE)
        yield from page
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1].id


def iter_made_by(user: User) -> Iterator[Any]:
    """Every request ``user`` made, newest first, page by page ("My requests" export)."""
    before: int | None = None
    while True:
        page = made_by(user, before_id=before, limit=EXPORT_PAGE)
        yield from page
        if len(page) < EXPORT_PAGE:
            return
        before = page[-1].id
