"""Checking the audit hash chain (``flask vaulta verify-audit``).

Walks every event in id order in one snapshot, recomputes each hash from the previous one
and the event's canonical JSON (``chain``), and stops at the first event whose stored hash
differs: that event was edited, or an event before it was deleted, or it was inserted
around the app. Then the chain's end must be the head row's event and hash: otherwise the
newest events were deleted (or the head was tampered with).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vaulta.models.audit import CHAIN_HEAD_ROW_ID
from vaulta.services.audit.chain import EVENTS, GENESIS, HEAD, canonical, link
from vaulta.services.unit_of_work import snapshot

CHUNK_ROWS = 5_000


@dataclass(frozen=True)
class ChainReport:
    events: int  # events checked (up to and including the first bad one)
    head_id: int | None  # the newest event that checked out
    head_hash: str
    problem: str | None = None  # names the first event that does not match
    event_id: int | None = None  # that event (None: the head row)

    @property
    def ok(self) -> bool:
        return self.problem is None


def chained_rows(
    conn: Connection, first_id: int | None = None, last_id: int | None = None
) -> sa.CursorResult:
    """Events in id order (``first_id`` to ``last_id``), with their stored JSON text,
    streamed: use the result as a context manager, so a walk stopped early closes it."""
    query = (
        sa.select(
            EVENTS.c.id,
            EVENTS.c.created_at,
            EVENTS.c.actor_id,
            EVENTS.c.action,
            EVENTS.c.object_type,
            EVENTS.c.object_id,
            sa.cast(EVENTS.c.details, sa.Text).label("details_json"),
            EVENTS.c.client_address,
            EVENTS.c.chain_hash,
        )
        .order_by(EVENTS.c.id)
        .execution_options(yield_per=CHUNK_ROWS)
    )
    if first_id is not None:
        query = query.where(EVENTS.c.id >= first_id)
    if last_id is not None:
        query = query.where(EVENTS.c.id <= last_id)
    return conn.execute(query)


def canonical_of(row: sa.Row) -> str:
    return canonical(
        row.id,
        row.created_at,
        row.actor_id,
        row.action,
        row.object_type,
        row.object_id,
        row.details_json,
        row.client_address,
    )


def verify_chain() -> ChainReport:
    """Walk the whole chain; the report names the first event that does not match."""
    with snapshot() as conn:
        previous, newest, count = GENESIS, None, 0
        with chained_rows(conn) as rows:
            for row in rows:
                count += 1
                expected = link(previous, canonical_of(row))
                if row.chain_hash != expected:
                    problem = _mismatch(row.id, row.chain_hash)
                    return ChainReport(count, newest, previous, problem, row.id)
                previous, newest = expected, row.id
        head = conn.execute(
            sa.select(HEAD.c.last_event_id, HEAD.c.last_hash).where(HEAD.c.id == CHAIN_HEAD_ROW_ID)
        ).first()
    problem = _head_problem(head, newest, previous)
    return ChainReport(count, newest, previous, problem)


def _mismatch(event_id: int, stored: str | None) -> str:
    if stored is None:
        return f"event #{event_id} has no hash: it was written around the chain"
    return (
        f"event #{event_id} does not match its hash: it was edited, or an event before it "
        "was deleted, or it was inserted around the chain"
    )


def _head_problem(head: sa.Row | None, newest: int | None, last_hash: str) -> str | None:
    if head is None:
        return None if newest is None else "the chain head row is missing"
    if head.last_event_id == newest and head.last_hash == last_hash:
        return None
    if head.last_event_id is not None and (newest is None or head.last_event_id > newest):
        return (
            f"the chain head names event #{head.last_event_id} but the log ends at "
            f"#{newest}: the newest events were deleted"
        )
    return (
        f"the chain head (event #{head.last_event_id}) does not match the log's last event "
        f"#{newest}: the head was changed or events were written around the chain"
    )
