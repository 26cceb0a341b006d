"""The audit hash chain: every event stores ``sha256(previous hash + canonical JSON)``.

The canonical JSON of an event is the JSON array

    [id, created_at, actor_id, action, object_type, object_id, details, client_address]

with ``", "`` between items, strings as ``json.dumps(..., ensure_ascii=False)`` writes them,
``created_at`` as UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and ``details`` as the stored
JSON text (``json.dumps(details)``, which is how SQLAlchemy stores it). It is what
PostgreSQL's ``json_build_array(...)::text`` prints for the same row, so the migration
that chained the existing rows did it in SQL (revision 4b1d6c2e8f30). The first event
links to ``GENESIS``. The hash is hex, over UTF-8: ``sha256((prev + canonical).encode())``.

Writers never fork the chain: events recorded during a ``write_transaction`` wait in the
session (``pending``) and are sealed just before it commits (``seal``): the one
``audit_chain_head`` row is locked (PostgreSQL ``FOR UPDATE``, taken after every other
lock the transaction needs, the events' actors ``FOR KEY SHARE`` included, so no lock is
ever awaited while holding it; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), ids are allocated under that lock, the
events are inserted with their hashes and the head moves to the newest one. A rolled back
transaction leaves nothing: its events and its move of the head go together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from vaulta.models.audit import CHAIN_HEAD_ROW_ID, AuditChainHead, AuditEvent

GENESIS = "0" * 64
EVENTS = AuditEvent.__table__
HEAD = AuditChainHead.__table__
PENDING_KEY = "vaulta_audit_pending"
WRITING_KEY = "vaulta_audit_writing"

# The details go in as the very text that was hashed (not re-serialised by the JSON type).
INSERT = sa.insert(EVENTS).values(details=sa.bindparam("details_json", type_=sa.Text))
_MOVE_HEAD = (
    sa.update(HEAD)
    .where(HEAD.c.id == CHAIN_HEAD_ROW_ID)
    .values(last_event_id=sa.bindparam("head_id"), last_hash=sa.bindparam("head_hash"))
)


def created_text(when: datetime) -> str:
    """``created_at`` as it enters the canonical JSON (UTC, microseconds)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # SQLite hands back UTC without an offset
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(
    event_id: int,
    created_at: datetime | str,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str | None,
    details_json: str,
    client_address: str | None,
) -> str:
    """The canonical JSON of one event (see the module doc); ``details_json`` verbatim."""
    created = created_at if isinstance(created_at, str) else created_text(created_at)
    items = [event_id, created, actor_id, action, object_type, object_id]
    parts = [json.dumps(item, ensure_ascii=False) for item in items]
    parts.append(details_json)
    parts.append(json.dumps(client_address, ensure_ascii=False))
    return "[" + ", ".join(parts) + "]"


def link(previous_hash: str, canonical_json: str) -> str:
    """The hash of an event whose canonical JSON is ``canonical_json``."""
    return hashlib.sha256((previous_hash + canonical_json).encode("utf-8")).hexdigest()


def pending(s: Session) -> list[dict[str, Any]]:
    """The rows recorded in ``s``'s write transaction, not sealed yet."""
    if not s.info.get(WRITING_KEY):
        raise RuntimeError("audit events are recorded inside write_transaction() only")
    return s.info.setdefault(PENDING_KEY, [])  # type: ignore[no-any-return]


def begin(s: Session) -> None:
    """``write_transaction`` begins: events may be recorded."""
    s.info[WRITING_KEY] = True
    s.info[PENDING_KEY] = []


def end(s: Session) -> None:
    """The transaction ended (committed or rolled back): unsealed events are dropped."""
    s.info.pop(WRITING_KEY, None)
    s.info.pop(PENDING_KEY, None)


def seal(s: Session) -> None:
    """Chain and insert the pending events, last thing before the commit."""
    rows = s.info.get(PENDING_KEY)
    if not rows:
        return
    if s.new or s.dirty or s.deleted:
        s.flush()  # rows the events point at (actors) go in first
    conn = s.connection()
    actors = sorted({row["actor_id"] for row in rows if row["actor_id"] is not None})
    previous, ids = _lock_head(conn, len(rows), actors)
    chained = list(_chain(previous, ids, rows))
    head = {"head_id": chained[-1]["id"], "head_hash": chained[-1]["chain_hash"]}
    if conn.dialect.name == "postgresql":
        columns = {c: [row[c] for row in chained] for c in _EVENT_COLUMNS}
        columns["details"] = [row["details_json"] for row in chained]  # the hashed text
        conn.execute(_INSERT_POSTGRESQL, head | columns)
    else:
        keys = [c for c in _EVENT_COLUMNS if c != "details"] + ["details_json"]
        conn.execute(INSERT, [{c: row[c] for c in keys} for row in chained])
        conn.execute(_MOVE_HEAD, head)
    rows.clear()


def _chain(previous: str, ids: list[int], rows: list[dict[str, Any]]) -> Iterable[dict]:
    for event_id, row in zip(ids, rows, strict=True):
        details = json.dumps(row["details"])
        text = canonical(
            event_id,
            row["created_at"],
            row["actor_id"],
            row["action"],
            row["object_type"],
            row["object_id"],
            details,
            row["client_address"],
        )
        previous = link(previous, text)
        yield row | {"id": event_id, "chain_hash": previous, "details_json": details}


def _lock_head(conn: Connection, count: int, actors: list[int]) -> tuple[str, list[int]]:
    """Lock the chain head: the newest hash and ``count`` new event ids, allocated under
    the lock (so ids grow in chain order). Creates the head if it is missing."""
    postgres = conn.dialect.name == "postgresql"
    statement = _HEAD_POSTGRESQL if postgres else _HEAD_SQLITE
    params = {"count": count, "actors": actors}
    found = conn.execute(statement, params).all()
    if not found:
        insert = (postgresql if postgres else sqlite).insert(HEAD)
        conn.execute(
            insert.values(id=CHAIN_HEAD_ROW_ID, last_hash=GENESIS).on_conflict_do_nothing()
        )
        found = conn.execute(statement, params).all()
    previous = found[0][0]
    if postgres:
        return previous, [int(r[1]) for r in found]
    newest = int(found[0][1] or 0)
    return previous, list(range(newest + 1, newest + 1 + count))


# PostgreSQL, in this order (each LATERAL depends on what comes before it, so the plan
# cannot reorder them): the events' actors locked FOR KEY SHARE (what their foreign keys
# need: a transaction that changed such a login, e.g. rotated its session token, is waited
# for now, before the head is held, never while holding it), then the head row (the
# subquery's FOR UPDATE waits for the writer before, then reads its committed head), then
# the ids: nextval runs only once the lock is held.
_HEAD_POSTGRESQL = sa.text(
    "SELECT h.last_hash, ids.id FROM "
    "(SELECT count(*) AS n FROM (SELECT id FROM users "
    "WHERE id = ANY(CAST(:actors AS integer[])) ORDER BY id FOR KEY SHARE) AS a) AS actors "
    "CROSS JOIN LATERAL (SELECT last_hash FROM audit_chain_head "
    "WHERE id = 1 AND actors.n >= 0 FOR UPDATE) AS h "
    "CROSS JOIN LATERAL (SELECT nextval(pg_get_serial_sequence('audit_events', 'id')) AS id "
    "FROM generate_series(1, :count) WHERE h.last_hash IS NOT NULL) AS ids"
)
# SQLite: the writer already holds the database's write lock (BEGIN IMMEDIATE).
_HEAD_SQLITE = sa.text(
    "SELECT last_hash, (SELECT max(id) FROM audit_events) FROM audit_chain_head WHERE id = 1"
)

_EVENT_COLUMNS = (
    "id",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "details",
    "client_address",
    "created_at",
    "chain_hash",
)
# PostgreSQL: every event and the head's move in one statement, whatever their number (one
# array per column), so a batch costs what a single event does.
_INSERT_POSTGRESQL = sa.text(
    "WITH moved_head AS (UPDATE audit_chain_head SET last_event_id = :head_id, "
    "last_hash = :head_hash WHERE id = 1) "
    "INSERT INTO audit_events (id, actor_id, action, object_type, object_id, details, "
    "client_address, created_at, chain_hash) "
    "SELECT * FROM unnest(CAST(:id AS integer[]), CAST(:actor_id AS integer[]), "
    "CAST(:action AS varchar[]), CAST(:object_type AS varchar[]), "
    "CAST(:object_id AS varchar[]), CAST(:details AS json[]), "
    "CAST(:client_address AS varchar[]), CAST(:created_at AS timestamptz[]), "
    "CAST(:chain_hash AS varchar[]))"
)
