"""Connections and transactions: the pre-use ping and how write transactions begin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.databases import require_postgres
from tests.helpers import count_rows, sql_statements
from tests.webclient import WebClient
from vaulta import create_app
from vaulta.extensions import db
from vaulta.models import AuditEvent
from vaulta.services import audit
from vaulta.services.unit_of_work import snapshot, write_transaction


@pytest.fixture
def pg_app(postgres_url: str) -> Iterator[Flask]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": postgres_url})
    app.test_client_class = WebClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _backend_pid() -> int:
    pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    db.session.commit()  # the connection goes back to the pool
    assert isinstance(pid, int)
    return pid


def _terminate(pid: int) -> None:
    """Drop one server connection from outside, as a restart or failover would."""
    engine = sa.create_engine(require_postgres().replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()


def test_a_dropped_connection_is_replaced_before_use(pg_app: Flask) -> None:
    """Dropped by the server moments after its last use (a restart, a failover): the
    pre-use ping finds it dead and the pool opens another (tests/ops/test_outages.py
    has the whole outage)."""
    first = _backend_pid()
    _terminate(first)
    second = _backend_pid()
    assert second != first


def _autocommit() -> bool:
    return bool(db.session.connection().connection.dbapi_connection.autocommit)  # type: ignore[union-attr]


def test_postgresql_reads_run_in_autocommit_and_writes_in_a_transaction(pg_app: Flask) -> None:
    """Reads need no BEGIN / ROLLBACK round trips; a write is one READ COMMITTED transaction."""
    assert _autocommit()
    first = db.session.scalar(sa.text("SELECT now()"))
    db.session.execute(sa.text("SELECT pg_sleep(0.01)"))
    assert db.session.scalar(sa.text("SELECT now()")) > first  # each read: its own transaction
    with write_transaction() as s:
        assert not _autocommit()
        level = s.scalar(sa.text("SELECT current_setting('transaction_isolation')"))
        assert level == "read committed"
        started = s.scalar(sa.text("SELECT now()"))
        s.execute(sa.text("SELECT pg_sleep(0.01)"))
        assert s.scalar(sa.text("SELECT now()")) == started  # one transaction throughout
    db.session.remove()
    assert _autocommit()  # the pooled connection came back in read mode


def test_sqlite_reads_run_in_autocommit_and_writes_begin_immediately(sqlite_app: Flask) -> None:
    with sql_statements() as statements:
        db.session.execute(sa.text("SELECT 1"))
        with write_transaction() as s:
            s.execute(sa.text("SELECT 2"))
        db.session.execute(sa.text("SELECT 3"))
    # The maintenance check runs before waiting for the write lock and again inside the
    # transaction (vaulta/services/maintenance.py); both read one row by primary key.
    checks = [i for i, sql in enumerate(statements) if "FROM maintenance_mode" in sql]
    assert checks == [1, 3], statements
    others = [sql for sql in statements if "FROM maintenance_mode" not in sql]
    assert others == ["SELECT 1", "BEGIN IMMEDIATE", "SELECT 2", "SELECT 3"]


def test_snapshot_reads_in_one_transaction(app: Flask) -> None:
    with sql_statements() as statements, snapshot() as conn:
        conn.execute(sa.text("SELECT 1"))
        conn.execute(sa.text("SELECT 2"))
        if conn.dialect.name == "postgresql":
            level = conn.scalar(sa.text("SELECT current_setting('transaction_isolation')"))
            assert level == "repeatable read"
    if db.engine.dialect.name == "sqlite":
        assert statements == ["BEGIN DEFERRED", "SELECT 1", "SELECT 2"]


def test_writes_roll_back_whole_on_error(app: Flask) -> None:
    db.session.execute(sa.text("SELECT 1"))  # a read first: on PostgreSQL the write joins it

    def two_events_then_a_failure() -> None:
        with write_transaction() as s:
            audit.record(s, actor=None, action="customer.create", object_type="customer")
            audit.record(s, actor=None, action="customer.update", object_type="customer")
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        two_events_then_a_failure()
    assert count_rows(AuditEvent) == 0
