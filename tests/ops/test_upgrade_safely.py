"""``flask vaulta upgrade-safely`` on SQLite and PostgreSQL: success, and a failing revision
or a broken ledger leaving the database exactly as it was (revision, tables, rows)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from tests.ops.conftest import fingerprint, use_migrations
from vaulta.extensions import db
from vaulta.models import Account
from vaulta.ops.schema import current_revisions


def invoke(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["vaulta", *args])


def test_upgrades_backs_up_and_verifies(
    ops_app: Flask, with_ledger_data: None, migrations_copy: Callable[..., Path], tmp_path: Path
) -> None:
    use_migrations(ops_app, migrations_copy("good"))
    backup = tmp_path / ("before.db" if db.engine.dialect.name == "sqlite" else "before.dump")
    result = invoke(ops_app, "upgrade-safely", "--backup", str(backup))
    assert result.exit_code == 0, result.output
    assert "900d00000000 (head); ledger verified" in result.output
    assert current_revisions(db.engine) == ("900d00000000",)
    assert backup.is_file()


def test_nothing_pending_is_a_no_op(ops_app: Flask) -> None:
    result = invoke(ops_app, "upgrade-safely")
    assert result.exit_code == 0, result.output
    assert "Nothing to do" in result.output
    assert not Path(ops_app.instance_path, "backups").exists()


def test_failing_revision_leaves_the_database_unchanged(
    ops_app: Flask, with_ledger_data: None, migrations_copy: Callable[..., Path]
) -> None:
    before_revision = current_revisions(db.engine)
    before = fingerprint()
    # One good revision commits (its own transaction), then the next one fails after DDL.
    use_migrations(ops_app, migrations_copy("good", "failing"))
    result = invoke(ops_app, "upgrade-safely")
    assert result.exit_code == 1
    assert "RuntimeError: deliberate failure after DDL" in result.output
    assert "restored from" in result.output
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
    result = invoke(ops_app, "upgrade-safely")
    assert result.exit_code == 1
    assert "verify-ledger" in result.output
    assert current_revisions(db.engine) == before_revision
    assert fingerprint() == before
