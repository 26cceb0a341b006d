"""env.py sets lock_timeout and statement_timeout in each revision's transaction (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask_migrate import downgrade, upgrade

from tests.databases import fresh_postgres_database, require_postgres
from tests.migrations.test_flask_db import REVISIONS
from vaulta import create_app
from vaulta.extensions import db
from vaulta.ops.upgrade import alembic_config

PAYMENTS_INDEX_REVISION = "adecbb4f4996"


@pytest.fixture
def pg_app() -> Iterator[Flask]:
    with fresh_postgres_database(require_postgres(), "tmo") as url:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


def test_every_revision_transaction_sets_both_timeouts(pg_app: Flask) -> None:
    statements: list[str] = []
    sa.event.listen(
        db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]), named=False
    )
    upgrade()
    assert statements.count("SET LOCAL lock_timeout = '5s'") == len(REVISIONS)
    assert statements.count("SET LOCAL statement_timeout = '60s'") == len(REVISIONS)
    with db.engine.connect() as conn:  # transaction-local: the pool's connections are clean
        assert conn.scalar(sa.text("SHOW lock_timeout")) == "0"


def test_a_migration_queued_behind_a_lock_fails_fast(
    pg_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The next revision indexes payments (ix_payments_status_expires_at).
    upgrade(revision=REVISIONS[REVISIONS.index(PAYMENTS_INDEX_REVISION) - 1])
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "100ms")
    blocker = sa.create_engine(db.engine.url)
    with blocker.connect() as conn:
        conn.exec_driver_sql("LOCK TABLE users, payments IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
            command.upgrade(alembic_config(), "head")
        conn.rollback()
    blocker.dispose()
    downgrade(revision="base")


def test_bad_timeout_value_is_refused(pg_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIGRATION_STATEMENT_TIMEOUT", "1s'; DROP TABLE users; --")
    with pytest.raises(RuntimeError, match="MIGRATION_STATEMENT_TIMEOUT"):
        command.upgrade(alembic_config(), "head")
