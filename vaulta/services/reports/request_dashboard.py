"""The staff dashboard's figures about change requests, every action (queries only).

Both read a bounded, indexed range, never the whole table:

- the inbox backlog: ``status = 'pending'`` on ``ix_change_requests_status_created_at``,
  counted into the payments' age buckets in one statement (requests past their expiry
  that the 5-minute job has not marked yet are left out);
- time to decision: requests approved, rejected or failed (a decision that could not
  execute) with ``decided_at`` in the window, on ``ix_change_requests_decided_at``; the
  median and 90th percentile of ``decided_at - created_at`` per week of decision.
  Cancelled and expired requests were never decided and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from vaulta.models import ChangeRequest, utcnow
from vaulta.models.change_request import CR_APPROVED, CR_FAILED, CR_PENDING, CR_REJECTED
from vaulta.services.reports.staff_dashboard import (
    BACKLOG_AGES,
    Backlog,
    DecisionWeek,
    percentile,
)
from vaulta.services.unit_of_work import session

_cr = ChangeRequest.__table__
DECIDED = (CR_APPROVED, CR_REJECTED, CR_FAILED)


def inbox_backlog(*, now: datetime | None = None) -> Backlog:
    """The change requests waiting for a decision, counted by how long they have waited."""
    now = now or utcnow()
    created = _cr.c.created_at
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
        .execute(
            sa.select(sa.func.min(created), *columns).where(
                _cr.c.status == CR_PENDING, _cr.c.expires_at > now
            )
        )
        .one()
    )
    counts = [int(n) for n in row[1:]]
    labels = [label for label, _age in BACKLOG_AGES]
    return Backlog(list(zip(labels, counts, strict=True)), sum(counts), row[0])


def decision_times(weeks: int, *, now: datetime | None = None) -> list[DecisionWeek]:
    """Time from request to decision of the change requests decided in the last ``weeks``
    weeks, per week of decision (the Monday): median and 90th percentile, in seconds."""
    now = now or utcnow()
    monday = now.date() - timedelta(days=now.weekday())
    first_week = monday - timedelta(weeks=weeks - 1)
    start = datetime.combine(first_week, time.min, tzinfo=UTC)
    rows = session().execute(
        sa.select(_cr.c.created_at, _cr.c.decided_at).where(
            _cr.c.decided_at >= start, _cr.c.status.in_(DECIDED)
        )
    )
    waits: dict[date, list[float]] = defaultdict(list)
    for created, decided in rows:
        week = decided.date() - timedelta(days=decided.weekday())
        waits[week].append(max(0.0, (decided - created).total_seconds()))
    result = []
    for n in range(weeks):
        week = first_week + timedelta(weeks=n)
        values = sorted(waits.get(week, []))
        median = percentile(values, 0.5) if values else 0.0
        p90 = percentile(values, 0.9) if values else 0.0
        result.append(DecisionWeek(week, len(values), median, p90))
    return result
