"""The unit of work: every service write runs in one ``write_transaction()``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from vaulta.database import SQLITE_BEGIN_OPTION, WRITE_ISOLATION
from vaulta.extensions import db
from vaulta.services import maintenance
from vaulta.services.audit import chain


def session() -> Session:
    return db.session()


@contextmanager
def write_transaction(*, expire_on_commit: bool = True) -> Iterator[Session]:
    """One database transaction for one service call: commit on success, roll back on error.

    The session's reads ran in autocommit (vaulta/database.py); they are ended first,
    without expiring what they loaded (a read changed nothing), then the write
    transaction begins:

    - SQLite: with ``BEGIN IMMEDIATE``, so it holds the write lock before it reads
      balances and a read-then-write cannot be lost.
    - PostgreSQL: in READ COMMITTED; callers lock rows with ``SELECT … FOR UPDATE`` or
      conditional updates.

    While maintenance mode is on it raises ``maintenance.UnderMaintenance`` instead (checked
    once the transaction has begun; on SQLite also before it waits for the write lock).

    Audit events recorded meanwhile (``audit.record``) are hash-chained and inserted just
    before the commit (vaulta/services/audit/chain.py).

    ``expire_on_commit=False`` keeps what the session holds loaded after the commit: for
    callers that reload, inside the transaction, every object they hand back.
    """
    s = db.session()
    if s.new or s.dirty or s.deleted:
        raise RuntimeError("write_transaction() entered with unflushed changes in the session")
    sqlite = s.get_bind().dialect.name == "sqlite"
    if sqlite:  # refuse before waiting for the write lock an upgrade may hold
        maintenance.refuse_writes_during_maintenance(s)
    if s.in_transaction():
        _commit(s, expire=False)  # it only read: what it loaded is as fresh as before
    options: dict[str, str] = {SQLITE_BEGIN_OPTION: "IMMEDIATE"}
    if not sqlite:
        options["isolation_level"] = WRITE_ISOLATION
    s.connection(execution_options=options)
    chain.begin(s)
    try:
        maintenance.refuse_writes_during_maintenance(s)  # docs/deploy.md "Maintenance mode"
        yield s
        chain.seal(s)  # the audit events, chained: the last lock taken before the commit
        _commit(s, expire=expire_on_commit)
    except BaseException:
        s.rollback()
        raise
    finally:
        chain.end(s)


def _commit(s: Session, *, expire: bool) -> None:
    if expire:
        s.commit()
        return
    s.expire_on_commit = False
    try:
        s.commit()
    finally:
        s.expire_on_commit = True


@contextmanager
def snapshot() -> Iterator[Connection]:
    """A connection whose statements all see one moment of the database: long reads.

    For reads of many statements or rows that must agree with each other (the ledger
    verifier, streamed exports): its own connection in one transaction (the session's
    reads run in autocommit). PostgreSQL: REPEATABLE READ, read only (a server-side
    cursor needs a transaction too). SQLite: a deferred transaction, a snapshot in WAL.
    """
    options: dict[str, object] = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    if db.engine.dialect.name == "sqlite":
        options = {}  # BEGIN DEFERRED: the first read fixes the snapshot (WAL)
    with db.engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn
