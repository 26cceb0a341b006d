"""Engine and session set-up.

- The session's reads run in autocommit, without ``BEGIN`` / ``ROLLBACK``: under
  PostgreSQL's READ COMMITTED every statement takes its own snapshot anyway, so a
  read-only request sees what it would inside a transaction, for two round trips less;
  on SQLite it also keeps no read transaction open for a whole request (WAL checkpoints
  are not held back). ``write_transaction()`` gives its connection a real transaction:
  ``BEGIN IMMEDIATE`` on SQLite, READ COMMITTED on PostgreSQL. Other users of the engine
  (migrations, backups, ``snapshot()``) get ordinary transactions.
- SQLite gets the pragmas money needs and explicit transaction control.
- Every pooled connection is pinged before use (``pool_pre_ping``, vaulta/extensions.py),
  so a connection the server dropped is replaced instead of failing a request
  (vaulta/outages.py). It costs one round trip per request on PostgreSQL.
"""

from __future__ import annotations

import weakref
from typing import Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SQLITE_BEGIN_OPTION = "vaulta_sqlite_begin"
WRITE_ISOLATION = "READ COMMITTED"  # PostgreSQL's default, made explicit for writes
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
    if mode == "AUTOCOMMIT":
        return  # the session's reads: every statement is its own transaction
    conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def configure_engine(engine: Engine) -> None:
    """Install SQLite's listeners on a new ``engine`` (pragmas, explicit ``BEGIN``).

    Server databases need none: the pool pings each connection before use
    (``pool_pre_ping``, set for every engine in vaulta/extensions.py).
    """
    if engine.dialect.name != "sqlite":
        return
    if not event.contains(engine, "connect", _on_connect):
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)


_READS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def reads_engine(engine: Engine) -> Engine:
    """The same engine and pool, its connections in autocommit (for the session's reads)."""
    reads = _READS.get(engine)
    if reads is None:
        if engine.dialect.name == "sqlite":
            reads = engine.execution_options(**{SQLITE_BEGIN_OPTION: "AUTOCOMMIT"})
        else:
            reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        _READS[engine] = reads
    return reads


class Session(FlaskSession):
    """``db.session``: its reads run in autocommit (see the module doc)."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        bind = super().get_bind(*args, **kwargs)
        return reads_engine(bind) if isinstance(bind, Engine) else bind
