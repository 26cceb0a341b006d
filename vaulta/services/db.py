"""The unit of work: every service write runs in one ``write_transaction()``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from vaulta.database import SQLITE_BEGIN_OPTION
from vaulta.extensions import db


def session() -> Session:
    return db.session()


@contextmanager
def write_transaction() -> Iterator[Session]:
    """One database transaction for one service call: commit on success, roll back on error.

    A read transaction left open (e.g. by loading the signed-in user) is ended first, so
    that on SQLite the write transaction starts with ``BEGIN IMMEDIATE``: it holds the
    write lock before it reads balances, so a read-then-write cannot be lost. On
    PostgreSQL the caller locks rows with ``SELECT … FOR UPDATE``.
    """
    s = db.session()
    if s.new or s.dirty or s.deleted:
        raise RuntimeError("write_transaction() entered with unflushed changes in the session")
    if s.in_transaction():
        s.commit()
    s.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
