"""The write barrier: wait, within a bound, until no write transaction is in progress, and
keep new ones out while an upgrade or a restore runs.

``write_barrier(engine, seconds, progress)`` yields a connection of its own:

- PostgreSQL: the connection holds the write barrier exclusively (a session advisory lock
  on ``WRITE_BARRIER_KEY``) until the block ends. Every ``write_transaction()`` holds it in
  shared mode while it runs, so taking it waits for those in progress; meanwhile new ones
  fail to take it and refuse (vaulta/services/maintenance.py). Then it waits until no
  other session of this database has a transaction with a write xid (``backend_xid``):
  writers that do not go through ``write_transaction()`` (older code, a psql session).
  The connection is not in a transaction; the caller begins one if it wants.
- SQLite: the connection holds the write lock (``BEGIN IMMEDIATE``, waiting at most
  ``seconds``), so the writer in progress has finished and no other can start; the caller
  uses that transaction (an upgrade) or ends it (a restore copies the file afterwards).

Either way, after ``seconds`` without success it raises DrainTimeout naming what is still
running, and nothing has changed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from vaulta.database import SQLITE_BEGIN_OPTION, configure_engine
from vaulta.ops.backup import Progress
from vaulta.services.maintenance import WRITE_BARRIER_KEY

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for lock_timeout
POLL_SECONDS = 0.2
WRITERS = sa.text(
    "SELECT pid, round(extract(epoch FROM now() - xact_start)::numeric, 1) AS seconds, "
    "left(regexp_replace(query, '\\s+', ' ', 'g'), 80) AS query "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_xid IS NOT NULL ORDER BY xact_start"
)


class DrainTimeout(RuntimeError):
    """Write transactions were still running when the wait ran out; nothing was changed."""


@contextmanager
def write_barrier(
    engine: Engine, seconds: float, progress: Progress, *, sqlite_foreign_keys: bool = True
) -> Iterator[Connection]:
    """See the module doc. ``sqlite_foreign_keys=False`` turns SQLite's foreign keys off on
    the connection first (migrations rebuild tables; env.py checks them per revision)."""
    own = sa.create_engine(engine.url, poolclass=NullPool)
    configure_engine(own)
    try:
        if own.dialect.name == "sqlite":
            with _sqlite_write_lock(own, seconds, sqlite_foreign_keys) as conn:
                yield conn
        else:
            with _postgres_barrier(own, seconds, progress) as conn:
                yield conn
    finally:
        own.dispose()


@contextmanager
def _sqlite_write_lock(engine: Engine, seconds: float, foreign_keys: bool) -> Iterator[Connection]:
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout = {max(1, int(seconds * 1000))}")
        if not foreign_keys:
            raw.execute("PRAGMA foreign_keys = OFF")  # only possible outside a transaction
        conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        try:
            conn.begin()
        except OperationalError as err:
            raise DrainTimeout(
                f"another connection kept the SQLite write lock for {seconds:g} s "
                "(a write in progress); nothing was changed"
            ) from err
        try:
            yield conn
        finally:
            if conn.in_transaction():
                conn.rollback()


@contextmanager
def _postgres_barrier(engine: Engine, seconds: float, progress: Progress) -> Iterator[Connection]:
    deadline = time.monotonic() + seconds
    with engine.connect() as conn:
        _take_barrier(conn, deadline, seconds, progress)
        try:
            _wait_for_writers(conn, deadline, seconds, progress)
            yield conn
        finally:
            if conn.in_transaction():
                conn.rollback()
            conn.execute(sa.select(sa.func.pg_advisory_unlock(_key())))
            conn.commit()


def _key() -> sa.BindParameter[int]:
    return sa.literal(WRITE_BARRIER_KEY, sa.BigInteger)


def _take_barrier(conn: Connection, deadline: float, seconds: float, progress: Progress) -> None:
    """The exclusive advisory lock, in waits of at most a second (reporting who writes)."""
    while True:
        wait_ms = max(1, min(1000, int((deadline - time.monotonic()) * 1000)))
        try:
            with conn.begin():
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
                conn.execute(sa.select(sa.func.pg_advisory_lock(_key())))
            return
        except OperationalError as err:
            if getattr(err.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
        writers = _writers(conn)
        if time.monotonic() >= deadline:
            raise DrainTimeout(_still_running(writers, seconds))
        progress(f"waiting for write transactions to finish: {_list(writers) or 'starting'}")


def _wait_for_writers(
    conn: Connection, deadline: float, seconds: float, progress: Progress
) -> None:
    reported = 0.0
    while writers := _writers(conn):
        if time.monotonic() >= deadline:
            raise DrainTimeout(_still_running(writers, seconds))
        if time.monotonic() - reported >= 1:
            progress(f"waiting for write transactions to finish: {_list(writers)}")
            reported = time.monotonic()
        time.sleep(POLL_SECONDS)


def _writers(conn: Connection) -> list[sa.Row[tuple[int, float, str]]]:
    rows = list(conn.execute(WRITERS))
    conn.rollback()
    return rows


def _list(writers: list[sa.Row[tuple[int, float, str]]]) -> str:
    return "; ".join(f"pid {w.pid} for {w.seconds} s: {w.query}" for w in writers)


def _still_running(writers: list[sa.Row[tuple[int, float, str]]], seconds: float) -> str:
    who = _list(writers) or "write transactions holding the write barrier"
    return (
        f"write transactions were still running after {seconds:g} s ({who}); nothing was "
        "changed. Find out what they are, or raise UPGRADE_DRAIN_SECONDS, and try again."
    )
