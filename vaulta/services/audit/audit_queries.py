"""Reading the audit log: filtered, newest first, in keyset pages, with each event's actor.

Writing events is ``vaulta.services.audit.recording.record``; this module only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from vaulta.models import AuditEvent, User
from vaulta.services.errors import InvalidInput
from vaulta.services.ledger.transaction_search import day_start, escape_like, like_pattern
from vaulta.services.unit_of_work import session

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class AuditEntry:
    event: AuditEvent
    actor: User | None  # None for events without a signed-in actor (e.g. the CLI)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before_id: int | None  # the cursor for the next (older) page, None on the last page


def _actor_condition(actor: str) -> sa.ColumnElement[bool]:
    """A user id (digits) or part of the actor's email, case-insensitive."""
    if actor.isdigit():
        return AuditEvent.actor_id == int(actor)
    return User.email.ilike(like_pattern(actor.lower()), escape="\\")


def search(
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """One page of audit events, newest first, older than ``before_id`` if given.

    ``action`` matches exactly or as a prefix (``transaction.`` finds every posting);
    dates are whole UTC days, both inclusive.
    """
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("The end date is before the start date.", field="date_to")
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    stmt = (
        sa.select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit + 1)
    )
    actor = (actor or "").strip()
    if actor:
        stmt = stmt.where(_actor_condition(actor))
    action = (action or "").strip()
    if action:
        stmt = stmt.where(AuditEvent.action.like(escape_like(action) + "%", escape="\\"))
    object_type = (object_type or "").strip()
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    object_id = (object_id or "").strip()
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if date_from:
        stmt = stmt.where(AuditEvent.created_at >= day_start(date_from))
    if date_to:
        stmt = stmt.where(AuditEvent.created_at < day_start(date_to + timedelta(days=1)))
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    entries = [AuditEntry(event=e, actor=u) for e, u in session().execute(stmt)]
    if len(entries) > limit:
        entries = entries[:limit]
        return AuditPage(entries=entries, next_before_id=entries[-1].event.id)
    return AuditPage(entries=entries, next_before_id=None)
