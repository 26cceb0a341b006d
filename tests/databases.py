"""Test databases: a migrated SQLite template copied per test, and a fresh PostgreSQL
database per run (created from ``VAULTA_TEST_DATABASE_URL``, dropped afterwards).

``VAULTA_REQUIRE_POSTGRES=1`` (set by .ci/run) turns a missing PostgreSQL into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.orm import Session

from vaulta import create_app
from vaulta.config import normalise_database_url
from vaulta.services.changes.policies import install_defaults

PG_ENV = "VAULTA_TEST_DATABASE_URL"


def require_postgres() -> str:
    """The server URL for PostgreSQL tests, or skip (fail under VAULTA_REQUIRE_POSTGRES=1)."""
    url = os.environ.get(PG_ENV)
    if not url:
        message = f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://root@127.0.0.1/postgres)"
        if os.environ.get("VAULTA_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " but VAULTA_REQUIRE_POSTGRES=1")
        pytest.skip(message)
    return normalise_database_url(url)


@contextmanager
def fresh_postgres_database(server_url: str, label: str = "t") -> Iterator[str]:
    """Create an empty database on the server, yield its URL, drop it afterwards."""
    name = f"vaulta_{label}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def migrate_to_head(url: str) -> None:
    """Build the schema with the project's migrations (what production runs)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        from vaulta.extensions import db

        db.engine.dispose()


class SqliteTemplate:
    """One migrated database file; each test gets a copy of it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        migrate_to_head(f"sqlite:///{self.path}")

    def copy_to(self, directory: Path) -> str:
        target = directory / "vaulta-test.db"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"


def truncate_all(url: str) -> None:
    """Empty every application table of a PostgreSQL test database."""
    from vaulta.models import Base

    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        # The migrations' seed data that tests rely on: the default approval policies.
        with Session(bind=conn) as s:
            install_defaults(s)
            s.commit()
    engine.dispose()
