"""Loading many rows fast inside the caller's write transaction (the demo seed at scale).

``write_rows`` sends them with ``COPY`` on PostgreSQL (a writer thread sends while Python
makes the next rows) and with the driver's ``executemany`` on SQLite (SQLAlchemy's
per-value processing would cost as much as the inserts themselves).

``loading(s, table)`` takes the table's secondary indexes (and on PostgreSQL its foreign
keys) away for the load and puts them back afterwards, in the same transaction: building
an index once is several times faster than a million inserts into it, and re-adding a
foreign key checks every row with one join instead of one lookup per row. Everything is
recreated from the models' own definitions (``flask db check`` compares those), and a
failed load rolls the DDL back with the rows. While it runs the table is locked against
everyone else (on PostgreSQL the referenced tables too): for seeding a database that is
not in use yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models.base import UTCDateTime

Progress = Callable[[int], None]
# SQLite's page cache while loading (KiB, negative = size): index pages stay in memory.
SQLITE_LOAD_CACHE_KIB = 256 * 1024


def reserve_ids(s: Session, table: sa.Table, count: int) -> list[int]:
    """Primary keys for ``count`` new rows of ``table``, ascending: from its sequence on
    PostgreSQL, after its last id on SQLite (whose write lock, taken by BEGIN IMMEDIATE,
    keeps others out meanwhile)."""
    if s.get_bind().dialect.name == "postgresql":
        reserved = s.scalars(
            sa.text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table.name, "count": count},
        ).all()
        return sorted(reserved)
    last = s.scalar(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)))
    return list(range(last + 1, last + 1 + count))


@contextmanager
def loading(s: Session, table: sa.Table) -> Iterator[None]:
    """Drop ``table``'s non-unique indexes (and foreign keys on PostgreSQL), then recreate
    them after the block, all in the caller's transaction."""
    conn = s.connection()
    postgresql = conn.dialect.name == "postgresql"
    indexes = sorted((i for i in table.indexes if not i.unique), key=lambda i: str(i.name))
    foreign_keys = (
        sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name)) if postgresql else []
    )
    for fk in foreign_keys:
        conn.execute(sa.schema.DropConstraint(fk))
    for index in indexes:
        conn.execute(sa.schema.DropIndex(index))
    cache = None if postgresql else conn.exec_driver_sql("PRAGMA cache_size").scalar()
    if cache is not None:
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        if cache is not None:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    for index in indexes:
        conn.execute(sa.schema.CreateIndex(index))
    for fk in foreign_keys:
        conn.execute(sa.schema.AddConstraint(fk))


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_rows(
    s: Session,
    table: sa.Table,
    columns: str,
    rows: Iterator[tuple[Any, ...]],
    batch_size: int,
    advance: Progress,
) -> None:
    """Bulk-insert ``rows``: COPY on PostgreSQL, the driver's executemany in batches on
    SQLite (no per-value processing: that would cost as much as the inserts).

    Nothing may use the session while the COPY runs: it holds the connection.
    """
    names = columns.split()
    connection = s.connection()
    driver = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        from psycopg.copy import QueuedLibpqWriter  # here: it costs every command 0.16 s

        cursor = driver.cursor()  # type: ignore[union-attr]
        # A writer thread sends the data while this one makes the next rows: the server
        # (indexes, foreign keys) and Python work at the same time on two cores.
        writer = QueuedLibpqWriter(cursor)
        statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        with cursor.copy(statement, writer=writer) as copy:
            for batch in _batches(rows, batch_size):
                for row in batch:
                    copy.write_row(row)
                advance(len(batch))
        return
    # The text SQLAlchemy stores for a UTCDateTime on SQLite (models.base): UTC, no offset,
    # always with microseconds. Every timestamp here is made in UTC (utcnow()).
    times = [i for i, name in enumerate(names) if isinstance(table.c[name].type, UTCDateTime)]
    marks = ", ".join("?" * len(names))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608 - names are ours
    for batch in _batches(rows, batch_size):
        if times:
            batch = [_sqlite_times(row, times) for row in batch]
        connection.exec_driver_sql(sql, batch)  # executemany, values as they are
        advance(len(batch))


def _sqlite_times(row: tuple[Any, ...], indexes: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in indexes:
        when: datetime = values[i]
        if when.utcoffset() != timedelta(0):
            raise ValueError(f"not a UTC timestamp: {when!r}")
        values[i] = when.isoformat(" ", "microseconds")[:26]
    return tuple(values)
