"""Fixtures for the operations tests: an app on its own migrated database (so schema changes
cannot leak into the shared test database), a copy of the migrations folder with extra
revisions, and a fingerprint of everything a database holds."""

from __future__ import annotations

import shutil
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask

from tests import factories
from tests.concurrency import in_threads
from tests.databases import (
    SqliteTemplate,
    fresh_postgres_database,
    migrate_to_head,
    require_postgres,
)
from vaulta import PROJECT_ROOT, create_app
from vaulta.extensions import db
from vaulta.models import Customer
from vaulta.services.unit_of_work import write_transaction

MIGRATIONS = Path(PROJECT_ROOT) / "migrations"


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate
) -> Iterator[str]:
    """A migrated database of this test's own, on each backend."""
    if request.param == "sqlite":
        yield sqlite_template.copy_to(tmp_path)
        return
    with fresh_postgres_database(require_postgres(), "ops") as url:
        migrate_to_head(url)
        yield url


@pytest.fixture
def ops_app(own_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": own_database_url})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def with_ledger_data(ops_app: Flask) -> None:
    """A customer with money moved: rows in most tables."""
    factories.make_admin("ops-admin@example.test")
    customer = factories.make_customer("Ops Customer")
    factories.make_account(customer, "EUR", 12_345)
    db.session.remove()


def fingerprint() -> dict[str, object]:
    """The revision, the tables and every row of the app's database."""
    engine = db.engine
    db.session.remove()
    tables = sorted(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        rows = {
            t: sorted(map(repr, conn.execute(sa.select(sa.text("*")).select_from(sa.table(t)))))
            for t in tables
        }
    engine.dispose()
    return {"tables": tables, "rows": rows}


FAILING_REVISION = '''
"""deliberately failing revision (tests only)"""
import sqlalchemy as sa
from alembic import op

revision = "f00dfa11ed00"
down_revision = "{down}"


def upgrade():
    op.create_table("ops_half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("UPDATE customers SET full_name = 'half done'")
    raise RuntimeError("deliberate failure after DDL")


def downgrade():
    op.drop_table("ops_half_done")
'''

GOOD_REVISION = '''
"""add ops_probe table with one row (tests only)"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"


def upgrade():
    table = op.create_table("ops_probe", sa.Column("id", sa.Integer, primary_key=True))
    op.bulk_insert(table, [{{"id": 1}}])


def downgrade():
    op.drop_table("ops_probe")
'''


SLOW_REVISION = '''
"""add ops_slow table, taking a second (tests only)"""
import time

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"


def upgrade():
    op.create_table("ops_slow", sa.Column("id", sa.Integer, primary_key=True))
    time.sleep(1)


def downgrade():
    op.drop_table("ops_slow")
'''
# PostgreSQL only: commits on a connection of its own (as an autocommit block would), then
# fails; "{write}" also commits an audit event there, a write newer than the backup.
COMMITTING_REVISION = '''
"""commits on its own connection, then fails (tests only)"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"


def upgrade():
    side = sa.create_engine(op.get_bind().engine.url)
    with side.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE ops_side (id integer PRIMARY KEY)")
        if {write}:
            conn.exec_driver_sql(
                "INSERT INTO audit_events (action, object_type, details, created_at) "
                "VALUES ('ops.side_write', 'test', '{{}}', now())"
            )
    side.dispose()
    raise RuntimeError("deliberate failure after a commit of its own")


def downgrade():
    op.drop_table("ops_side")
'''
REVISIONS = {
    "good": GOOD_REVISION,
    "slow": SLOW_REVISION,
    "failing": FAILING_REVISION,
    "committing": COMMITTING_REVISION.replace("{write}", "False"),
    "committing_a_write": COMMITTING_REVISION.replace("{write}", "True"),
}


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy migrations/ to tmp_path and append revisions: "good", "slow" and/or "failing"."""

    def make(*kinds: str) -> Path:
        target = tmp_path / "migrations"
        shutil.copytree(MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
        down = _head(target)
        for index, kind in enumerate(kinds):
            rev = "f00dfa11ed00" if kind == "failing" else f"900d{index:08d}"
            text = REVISIONS[kind]
            body = textwrap.dedent(text).format(rev=rev, down=down)
            (target / "versions" / f"9999_{index}-{rev}_{kind}.py").write_text(body)
            down = rev
        return target

    return make


def _head(directory: Path) -> str:
    return ScriptDirectory(str(directory)).get_current_head() or ""


def use_migrations(app: Flask, directory: Path) -> None:
    app.extensions["migrate"].directory = str(directory)


def hold_a_write(app: Flask, check: Callable[[threading.Event], None]) -> Customer | None:
    """Run ``check(release)`` while a write transaction is open in another thread, which
    commits once ``release`` is set; return what it wrote."""
    started, release = threading.Event(), threading.Event()

    def write(_: int) -> int:
        with write_transaction() as s:
            customer = Customer(customer_number="C-HOLD-1", full_name="Held", email=None)
            s.add(customer)
            s.flush()
            started.set()
            assert release.wait(30)
        return customer.id

    def meanwhile(_finished: Callable[[], int]) -> None:
        assert started.wait(30)
        try:
            check(release)
        finally:
            release.set()

    (written,) = in_threads(app, 1, write, while_running=meanwhile)
    assert isinstance(written, int), written
    return db.session.get(Customer, written)
