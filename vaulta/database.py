"""Engine set-up. SQLite gets the pragmas money needs and explicit transaction control."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SQLITE_BEGIN_OPTION = "vaulta_sqlite_begin"
SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=15000",
    "PRAGMA synchronous=FULL",
)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def configure_engine(engine: Engine) -> None:
    """Install the SQLite listeners on ``engine`` (nothing to do for other backends)."""
    if engine.dialect.name != "sqlite":
        return
    if not event.contains(engine, "connect", _on_connect):
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
