"""The write watermark of a database, kept next to each backup (``PATH.watermark.json``).

For every table: how many rows, the highest ``id`` and the newest value of each timestamp
column. Before a restore, the backup's watermark is compared with the live database: a row
added since the backup (a higher id), changed since (a newer timestamp: ``updated_at``,
``decided_at``, ``last_login_at``, ``revoked_at``, ``used_at`` …) or deleted since, and any
row of a table the backup does not have, is a committed write the restore would erase.

Rows deleted since the backup are reported too, but they do not stop a restore: bringing
them back erases nothing (restoring lost rows is what backups are for).

What it cannot see is an update that moves no timestamp; in VAULTA such updates come with a
row that does (a balance with its transaction, a status with its audit event). Maintenance
mode's own table and ``alembic_version`` are operational state, not writes: left out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vaulta.models.base import utcnow

FORMAT = 1
LEFT_OUT = frozenset({"alembic_version", "maintenance_mode"})
SUFFIX = ".watermark.json"


@dataclass(frozen=True)
class TableMark:
    rows: int
    max_id: int | None
    newest: dict[str, str | None]  # timestamp column -> its newest value (ISO text)


@dataclass
class Watermark:
    backend: str
    taken_at: str
    revisions: list[str]
    tables: dict[str, TableMark]
    backup: dict[str, Any] = field(default_factory=dict)  # file name, bytes, sha256

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Watermark:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown watermark format {data.get('format')!r}")
        tables = {name: TableMark(**mark) for name, mark in data["tables"].items()}
        return cls(data["backend"], data["taken_at"], data["revisions"], tables, data["backup"])


@dataclass(frozen=True)
class NewerRows:
    """Rows of one table that a restore of the backup would erase (or bring back)."""

    table: str
    changed: int  # added or changed since the backup
    deleted: int  # deleted since the backup: the restore would bring them back
    newest_id: int | None
    newest_time: str | None
    table_not_in_backup: bool = False

    @property
    def erased_by_restore(self) -> bool:
        """Committed rows a restore would erase (rows only deleted since would come back)."""
        return self.changed > 0

    def describe(self) -> str:
        if self.table_not_in_backup:
            what = f"{self.changed} row(s) in a table the backup does not have"
        else:
            parts = [f"{self.changed} row(s) added or changed"] if self.changed else []
            if self.deleted:
                parts.append(f"{self.deleted} row(s) deleted (they would come back)")
            what = " and ".join(parts) + " since the backup"
        newest = [f"newest id {self.newest_id}"] if self.newest_id is not None else []
        newest += [f"newest time {self.newest_time} UTC"] if self.newest_time else []
        return f"{self.table}: {what}" + (f" ({', '.join(newest)})" if newest else "")


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def file_facts(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": digest}


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def _value(backend: str, text: str) -> object:
    """A stored value back into what the backend compares: SQLite keeps timestamps as text."""
    return text if backend == "sqlite" else datetime.fromisoformat(text)


def _shape(conn: Connection) -> dict[str, tuple[bool, list[str]]]:
    """table -> (has an integer ``id``, its timestamp columns)."""
    inspector = sa.inspect(conn)
    shape = {}
    for name in inspector.get_table_names():
        if name in LEFT_OUT:
            continue
        columns = inspector.get_columns(name)
        has_id = any(c["name"] == "id" and isinstance(c["type"], sa.Integer) for c in columns)
        stamps = [c["name"] for c in columns if isinstance(c["type"], sa.DateTime)]
        shape[name] = (has_id, stamps)
    return shape


def _table(name: str, has_id: bool, stamps: list[str]) -> sa.TableClause:
    # Untyped columns: values come back as the driver gives them (SQLite: text as stored).
    return sa.table(name, *(sa.column(c) for c in (["id"] if has_id else []) + stamps))


def _maxima(
    conn: Connection,
    table: sa.TableClause,
    has_id: bool,
    stamps: list[str],
    where: sa.ColumnElement[bool] | None = None,
) -> tuple[int, int | None, dict[str, str | None]]:
    """(rows, highest id, newest value per timestamp column) of the rows ``where`` picks."""
    columns = [sa.func.count()]
    columns += [sa.func.max(table.c.id)] if has_id else []
    columns += [sa.func.max(table.c[c]) for c in stamps]
    query = sa.select(*columns).select_from(table)
    values = list(conn.execute(query if where is None else query.where(where)).one())
    rows = values.pop(0)
    max_id = values.pop(0) if has_id else None
    return rows, max_id, {c: _text(v) for c, v in zip(stamps, values, strict=True)}


def _latest(newest: dict[str, str | None]) -> str | None:
    return max((v for v in newest.values() if v is not None), default=None)


def measure(conn: Connection) -> Watermark:
    """The watermark of the database ``conn`` reads (inside its transaction, if any)."""
    tables = {}
    for name, (has_id, stamps) in _shape(conn).items():
        rows, max_id, newest = _maxima(conn, _table(name, has_id, stamps), has_id, stamps)
        tables[name] = TableMark(rows, max_id, newest)
    revisions: list[str] = []
    if sa.inspect(conn).has_table("alembic_version"):
        query = sa.text("SELECT version_num FROM alembic_version")
        revisions = sorted(conn.execute(query).scalars())
    return Watermark(conn.dialect.name, _text(utcnow()) or "", revisions, tables)


def newer_rows(
    conn: Connection, mark: Watermark, *, tables_not_in_backup: bool = True
) -> list[NewerRows]:
    """What the live database (``conn``) holds that is newer than ``mark``; [] if nothing.

    ``tables_not_in_backup=False`` ignores tables the backup lacks (made by the revisions of
    a failed upgrade, which the restore is there to undo).
    """
    if mark.backend != conn.dialect.name:
        raise ValueError(f"the backup is of {mark.backend}, the database is {conn.dialect.name}")
    found = []
    for name, (has_id, stamps) in _shape(conn).items():
        table = _table(name, has_id, stamps)
        known = mark.tables.get(name)
        if known is None:
            rows, max_id, newest = _maxima(conn, table, has_id, stamps)
            if rows and tables_not_in_backup:
                found.append(NewerRows(name, rows, 0, max_id, _latest(newest), True))
            continue
        where = _newer_than(table, has_id, stamps, known, mark.backend)
        changed, max_id, newest = (
            _maxima(conn, table, has_id, stamps, where) if where is not None else (0, None, {})
        )
        deleted = _deleted(conn, table, has_id, known)
        if changed or deleted:
            found.append(NewerRows(name, changed, deleted, max_id, _latest(newest)))
    return found


def _newer_than(
    table: sa.TableClause, has_id: bool, stamps: list[str], known: TableMark, backend: str
) -> sa.ColumnElement[bool] | None:
    conditions = []
    if has_id:
        id_ = table.c.id
        conditions.append(id_ > known.max_id if known.max_id is not None else id_.is_not(None))
    for name in stamps:
        if name not in known.newest:
            continue  # a column added since the backup: its rows count by id or other stamps
        newest, column = known.newest[name], table.c[name]
        conditions.append(
            column.is_not(None) if newest is None else column > _value(backend, newest)
        )
    return sa.or_(*conditions) if conditions else None


def _deleted(conn: Connection, table: sa.TableClause, has_id: bool, known: TableMark) -> int:
    """Rows of the backup no longer in the live table."""
    query = sa.select(sa.func.count()).select_from(table)
    if has_id:
        if known.max_id is None:
            return 0
        query = query.where(table.c.id <= known.max_id)
    return max(0, known.rows - conn.execute(query).scalar_one())


def write(mark: Watermark, path: Path) -> Path:
    """Write ``mark`` next to the backup at ``path`` (atomically); return where."""
    target = sidecar(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(mark.to_json())
    partial.replace(target)
    return target


def read(path: Path) -> Watermark | None:
    """The watermark written next to the backup at ``path``, or None when there is none."""
    target = sidecar(path)
    if not target.is_file():
        return None
    return Watermark.from_json(target.read_text())
