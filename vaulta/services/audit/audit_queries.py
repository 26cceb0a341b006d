"""Reading the audit log: filtered, newest first, in keyset pages (or streamed for the CSV
and XLSX downloads), with each event's actor.

Writing events is ``vaulta.services.audit.recording.record``; this module only reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from vaulta.models import AuditEvent, User
from vaulta.services.errors import InvalidInput
from vaulta.services.ledger.transaction_search import day_start, escape_like, like_pattern
from vaulta.services.unit_of_work import session, snapshot

MAX_PAGE_SIZE = 200
EXPORT_CHUNK_ROWS = 2_000


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
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    stmt = (
        sa.select(AuditEvent, User)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit + 1)
    )
    stmt = _filtered(stmt, actor, action, object_type, object_id, date_from, date_to)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    entries = [AuditEntry(event=e, actor=u) for e, u in session().execute(stmt)]
    if len(entries) > limit:
        entries = entries[:limit]
        return AuditPage(entries=entries, next_before_id=entries[-1].event.id)
    return AuditPage(entries=entries, next_before_id=None)


def iter_events(
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Iterator[sa.Row[Any]]:
    """Every matching event, newest first, as plain rows with the actor's email: for the
    CSV and XLSX downloads, streamed in chunks from one snapshot."""
    stmt = (
        sa.select(
            AuditEvent.id,
            AuditEvent.created_at,
            User.email.label("actor_email"),
            AuditEvent.action,
            AuditEvent.object_type,
            AuditEvent.object_id,
            AuditEvent.details,
            AuditEvent.client_address,
        )
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc())
        .execution_options(yield_per=EXPORT_CHUNK_ROWS)
    )
    stmt = _filtered(stmt, actor, action, object_type, object_id, date_from, date_to)
    return _stream(stmt)


def _stream(stmt: sa.Select[Any]) -> Iterator[sa.Row[Any]]:
    with snapshot() as conn:
        result = conn.execute(stmt)
        try:
            yield from result
        finally:
            result.close()


def _filtered(
    stmt: sa.Select[Any],
    actor: str | None,
    action: str | None,
    object_type: str | None,
    object_id: str | None,
    date_from: date | None,
    date_to: date | None,
) -> sa.Select[Any]:
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("The end date is before the start date.", field="date_to")
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
    return stmt
