"""Exporting the audit chain for auditors: JSON Lines plus a manifest, checkable offline.

An export is the contiguous run of the chain from the first event dated in the period to
the last one (by id, so an event dated outside the period but written in between is in
it too: a chain has no holes). Each line is one event with its hash::

    {"id": 7, "created_at": "2026-12-01T09:30:00.000000Z", "actor_id": 1,
     "action": "account.open", "object_type": "account", "object_id": "12",
     "details": {...}, "client_address": "192.0.2.1", "hash": "…"}

The manifest gives ``previous_hash`` (the hash of the event just before the first one,
or the genesis hash), ``last_hash``, the first and last ids, the count, the database's
chain head at the time, and the SHA-256 of the JSON Lines file. ``verify_export`` (and
``flask vaulta verify-audit-export``) recomputes every hash from ``previous_hash`` with
the recipe of vaulta/services/audit/chain.py, no database needed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO, Any

import sqlalchemy as sa

from vaulta.models import User, utcnow
from vaulta.models.audit import CHAIN_HEAD_ROW_ID
from vaulta.services.audit import recording
from vaulta.services.audit.chain import EVENTS, GENESIS, HEAD, canonical, created_text, link
from vaulta.services.audit.verification import canonical_of, chained_rows
from vaulta.services.errors import Conflict, InvalidInput
from vaulta.services.ledger.transaction_search import day_start
from vaulta.services.unit_of_work import snapshot, write_transaction

FORMAT = "vaulta-audit-export/1"
MAX_DAYS = 3_660


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date

    def __post_init__(self) -> None:
        if self.date_from > self.date_to:
            raise InvalidInput("The end date is before the start date.", field="date_to")
        if (self.date_to - self.date_from).days > MAX_DAYS:
            raise InvalidInput("Export at most ten years at a time.", field="date_to")

    @property
    def name(self) -> str:
        return f"audit-{self.date_from:%Y%m%d}-{self.date_to:%Y%m%d}"


def export_chain(period: Period, out: IO[bytes]) -> dict[str, Any]:
    """Write the period's run of the chain to ``out`` as JSON Lines; its manifest.

    Every hash is checked as it is written: a broken chain raises ``Conflict`` (run
    ``flask vaulta verify-audit``) rather than hand an auditor an export that fails."""
    digest = hashlib.sha256()
    count, previous, first_id, last_id = 0, GENESIS, None, None
    with snapshot() as conn:
        bounds = _bounds(conn, period)
        head = conn.execute(
            sa.select(HEAD.c.last_event_id, HEAD.c.last_hash).where(HEAD.c.id == CHAIN_HEAD_ROW_ID)
        ).first()
        if bounds is not None:
            first_id, last_id = bounds
            before = sa.select(EVENTS.c.chain_hash).where(EVENTS.c.id < first_id)
            previous = conn.scalar(before.order_by(EVENTS.c.id.desc()).limit(1)) or GENESIS
        start = previous
        if bounds is not None:
            with chained_rows(conn, first_id, last_id) as rows:
                for row in rows:
                    expected = link(previous, canonical_of(row))
                    if row.chain_hash != expected:
                        raise Conflict(
                            f"The audit chain is broken at event #{row.id}: nothing was "
                            "exported. Run `flask vaulta verify-audit`."
                        )
                    line = (json.dumps(_line(row), ensure_ascii=False) + "\n").encode()
                    digest.update(line)
                    out.write(line)
                    previous, count = expected, count + 1
    return {
        "format": FORMAT,
        "from": period.date_from.isoformat(),
        "to": period.date_to.isoformat(),
        "exported_at": created_text(utcnow()),
        "events": count,
        "first_id": first_id,
        "last_id": last_id,
        "previous_hash": start,
        "last_hash": previous,
        "chain_head": {"event_id": head[0], "hash": head[1]} if head else None,
        "jsonl_sha256": digest.hexdigest(),
    }


def record_export(actor: User | int | None, manifest: dict[str, Any], via: str) -> None:
    """Audit the export itself (``audit.export``), after it was written."""
    details = {k: manifest[k] for k in ("from", "to", "events", "first_id", "last_id")}
    with write_transaction() as s:
        recording.record(
            s,
            actor=actor,
            action="audit.export",
            object_type="audit",
            details=details | {"last_hash": manifest["last_hash"], "via": via},
        )


def manifest_json(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def verify_export(lines: Iterable[bytes], manifest: dict[str, Any]) -> str | None:
    """Check an export offline; None when it holds, else what is wrong (first line)."""
    if manifest.get("format") != FORMAT:
        return f"unknown manifest format {manifest.get('format')!r}"
    digest = hashlib.sha256()
    previous, count, last_id = manifest["previous_hash"], 0, None
    for number, line in enumerate(lines, start=1):
        digest.update(line)
        event = json.loads(line)
        text = canonical(
            event["id"],
            event["created_at"],
            event["actor_id"],
            event["action"],
            event["object_type"],
            event["object_id"],
            json.dumps(event["details"]),
            event["client_address"],
        )
        previous = link(previous, text)
        if previous != event["hash"]:
            return f"line {number} (event #{event['id']}) does not match its hash"
        count, last_id = count + 1, event["id"]
    if (count, last_id, previous) != (
        manifest["events"],
        manifest["last_id"],
        manifest["last_hash"],
    ):
        return "the file ends elsewhere than the manifest says (lines missing or added)"
    if digest.hexdigest() != manifest["jsonl_sha256"]:
        return "the file's SHA-256 is not the manifest's"
    return None


def _bounds(conn: sa.Connection, period: Period) -> tuple[int, int] | None:
    start = day_start(period.date_from)
    end = day_start(period.date_to + timedelta(days=1))
    in_period = (EVENTS.c.created_at >= start) & (EVENTS.c.created_at < end)
    first = conn.scalar(sa.select(sa.func.min(EVENTS.c.id)).where(in_period))
    last = conn.scalar(sa.select(sa.func.max(EVENTS.c.id)).where(in_period))
    return None if first is None else (int(first), int(last))


def _line(row: sa.Row) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": created_text(row.created_at),
        "actor_id": row.actor_id,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "details": json.loads(row.details_json),
        "client_address": row.client_address,
        "hash": row.chain_hash,
    }
