"""``flask vaulta upgrade-safely`` on SQLite and PostgreSQL: success, and a failing revision
or a broken ledger leaving the database exactly as it was (revision, tables, rows), also
while the app keeps taking writes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade

from tests.helpers import vaulta_cli
from tests.ops.conftest import fingerprint, hold_a_write, use_migrations
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent
from vaulta.ops.schema import current_revisions
from vaulta.services import maintenance

BEFORE_MAINTENANCE_MODE = "adecbb4f4996"  # d7857d094736 adds maintenance_mode on top of it


def test_upgrades_backs_up_and_verifies(
    ops_app: Flask, with_ledger_data: None, migrations_copy: Callable[..., Path], tmp_path: Path
) -> None:
    use_migrations(ops_app, migrations_copy("good"))
    backup = tmp_path / ("before.db" if db.engine.dialect.name == "sqlite" else "before.dump")
    result = vaulta_cli(ops_app, "upgrade-safely", "--backup", str(backup))
    assert result.exit_code == 0, result.output
    assert "900d00000000 (head); ledger verified" in result.output
    assert current_revisions(db.engine) == ("900d00000000",)
    assert backup.is_file()


def test_nothing_pending_is_a_no_op(ops_app: Flask) -> None:
    result = vaulta_cli(ops_app, "upgrade-safely")
    assert result.exit_code == 0, result.output
    assert "Nothing to do" in result.output
    assert not Path(ops_app.instance_path, "backups").exists()


def test_failing_revision_leaves_the_database_unchanged(
    ops_app: Flask, with_ledger_data: None, migrations_copy: Callable[..., Path]
) -> None:
    before_revision = current_revisions(db.engine)
    before = fingerprint()
    # One good revision runs, then the next one fails after DDL: the one transaction that
    # holds both (and verify-ledger) rolls back, so there is nothing to restore.
    use_migrations(ops_app, migrations_copy("good", "failing"))
    result = vaulta_cli(ops_app, "upgrade-safely")
    assert result.exit_code == 1
    assert "RuntimeError: deliberate failure after DDL" in result.output
    assert "The upgrade was rolled back; nothing to restore" in result.output
    assert "Maintenance mode is off." in result.output
    assert current_revisions(db.engine) == before_revision
    assert fingerprint() == before  # no ops_probe, no ops_half_done, same rows
    assert list(Path(ops_app.instance_path, "backups").iterdir())  # the backup stays


def test_broken_ledger_after_upgrade_restores(
    ops_app: Flask, with_ledger_data: None, migrations_copy: Callable[..., Path]
) -> None:
    db.session.execute(sa.update(Account).values(balance_minor=Account.balance_minor + 1))
    db.session.commit()
    before_revision = current_revisions(db.engine)
    before = fingerprint()
    use_migrations(ops_app, migrations_copy("good"))
    result = vaulta_cli(ops_app, "upgrade-safely")
    assert result.exit_code == 1
    assert "verify-ledger" in result.output
    assert current_revisions(db.engine) == before_revision
    assert fingerprint() == before


def test_keep_maintenance_leaves_it_on_after_success(
    ops_app: Flask, migrations_copy: Callable[..., Path]
) -> None:
    use_migrations(ops_app, migrations_copy("good"))
    result = vaulta_cli(ops_app, "upgrade-safely", "--keep-maintenance")
    assert result.exit_code == 0, result.output
    assert "Maintenance mode stays on" in result.output
    state = maintenance.read_state(db.engine)
    assert state is not None
    assert "Upgrading the database to 900d00000000" in state.reason


def test_the_upgrade_that_brings_maintenance_mode(ops_app: Flask, with_ledger_data: None) -> None:
    downgrade(revision=BEFORE_MAINTENANCE_MODE)
    assert not maintenance.table_exists(db.engine)
    result = vaulta_cli(ops_app, "upgrade-safely")
    assert result.exit_code == 0, result.output
    assert "writes are not paused this time" in result.output
    assert maintenance.table_exists(db.engine)
    assert maintenance.read_state(db.engine) is None


def test_an_existing_backup_path_is_refused_before_anything_changes(
    ops_app: Flask, migrations_copy: Callable[..., Path], tmp_path: Path
) -> None:
    before = current_revisions(db.engine)
    taken = tmp_path / "taken.dump"
    taken.write_text("an older backup")
    use_migrations(ops_app, migrations_copy("good"))
    result = vaulta_cli(ops_app, "upgrade-safely", "--backup", str(taken))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert taken.read_text() == "an older backup"
    assert current_revisions(db.engine) == before
    assert maintenance.read_state(db.engine) is None


@pytest.mark.parametrize("own_database_url", ["postgresql"], indirect=True)
def test_writes_that_do_not_finish_in_time_stop_it_before_anything_changes(
    ops_app: Flask, migrations_copy: Callable[..., Path]
) -> None:
    before = current_revisions(db.engine)
    use_migrations(ops_app, migrations_copy("good"))

    def check(_release: threading.Event) -> None:
        result = vaulta_cli(ops_app, "upgrade-safely", "--drain-seconds", "0.5")
        assert result.exit_code == 1
        assert "write transactions were still running after 0.5 s" in result.output
        assert "Maintenance mode is off." in result.output
        assert current_revisions(db.engine) == before
        assert not Path(ops_app.instance_path, "backups").exists()

    assert hold_a_write(ops_app, check) is not None


@pytest.mark.parametrize("own_database_url", ["postgresql"], indirect=True)
def test_a_revision_that_committed_on_its_own_is_undone_from_the_backup(
    ops_app: Flask, with_ledger_data: None, migrations_copy: Callable[..., Path]
) -> None:
    before = fingerprint()
    use_migrations(ops_app, migrations_copy("good", "committing"))
    result = vaulta_cli(ops_app, "upgrade-safely")
    assert result.exit_code == 1
    assert "deliberate failure after a commit of its own" in result.output
    assert "Part of it had been committed: the database was restored from" in result.output
    assert fingerprint() == before  # ops_side, committed on the side, is gone too
    assert maintenance.read_state(db.engine) is None


@pytest.mark.parametrize("own_database_url", ["postgresql"], indirect=True)
def test_no_restore_over_a_write_newer_than_the_backup(
    ops_app: Flask, with_ledger_data: None, migrations_copy: Callable[..., Path]
) -> None:
    use_migrations(ops_app, migrations_copy("committing_a_write"))
    result = vaulta_cli(ops_app, "upgrade-safely")
    assert result.exit_code == 1
    assert "Refusing to restore" in result.output
    assert "audit_events: 1 row(s) added or changed since the backup" in result.output
    assert "Maintenance mode stays on" in result.output
    state = maintenance.read_state(db.engine)
    assert state is not None  # writes stay paused until someone has decided
    assert sa.inspect(db.engine).has_table("ops_side")  # nothing was restored over it
    db.session.remove()
    action = sa.select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)
    assert db.session.scalar(action) == "ops.side_write"
