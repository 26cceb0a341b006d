"""``flask vaulta rehearse-upgrade``: runs on a scratch copy; the live database is only read."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade

from tests.helpers import vaulta_cli
from tests.migrations.test_flask_db import HEAD, REVISIONS
from tests.ops.conftest import fingerprint, use_migrations
from vaulta.extensions import db
from vaulta.ops.schema import current_revisions


@pytest.fixture(autouse=True)
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def scratch_databases() -> list[str]:
    if db.engine.dialect.name != "postgresql":
        return []
    with db.engine.connect() as conn:
        return list(
            conn.scalars(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE 'vaulta_rehearsal_%'")
            )
        )


def test_rehearsal_times_each_revision_and_leaves_live_untouched(
    ops_app: Flask,
    with_ledger_data: None,
    migrations_copy: Callable[..., Path],
    private_tempdir: Path,
) -> None:
    use_migrations(ops_app, migrations_copy("good"))
    before = fingerprint()
    result = vaulta_cli(ops_app, "rehearse-upgrade")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("Revision"))
    assert header.split() == ["Revision", "Seconds", "Rows", "changed", "Verdict"]
    rows = [line for line in lines if line.startswith("900d00000000 ")]
    (upgrade_row,) = [line for line in rows if "down/up" not in line]
    assert "ops_probe +1" in upgrade_row
    assert upgrade_row.endswith("ok")
    assert any(line.startswith("900d00000000 down/up") and line.endswith("ok") for line in lines)
    assert any(line.startswith("verify-ledger") and line.endswith("ok") for line in lines)
    assert "Rehearsal passed." in result.output
    assert current_revisions(db.engine) == (HEAD,)
    assert fingerprint() == before  # no ops_probe in the live database
    assert scratch_databases() == []
    assert list(private_tempdir.iterdir()) == []


def test_failing_revision_fails_the_rehearsal(
    ops_app: Flask, with_ledger_data: None, migrations_copy: Callable[..., Path]
) -> None:
    use_migrations(ops_app, migrations_copy("failing"))
    before = fingerprint()
    result = vaulta_cli(ops_app, "rehearse-upgrade")
    assert result.exit_code == 1
    assert "FAIL: RuntimeError: deliberate failure after DDL" in result.output
    assert fingerprint() == before
    assert scratch_databases() == []


def test_from_backup_rehearses_the_backups_pending_revisions(
    ops_app: Flask, with_ledger_data: None, tmp_path: Path
) -> None:
    downgrade(revision=REVISIONS[-2])
    db.engine.dispose()
    backup = tmp_path / "older"
    assert vaulta_cli(ops_app, "backup", str(backup)).exit_code == 0
    live_before = fingerprint()
    result = vaulta_cli(ops_app, "rehearse-upgrade", "--from-backup", str(backup))
    assert result.exit_code == 0, result.output
    assert any(line.startswith(f"{HEAD} ") for line in result.output.splitlines())
    assert current_revisions(db.engine) == (REVISIONS[-2],)
    assert fingerprint() == live_before


def test_nothing_pending_still_round_trips_the_newest_revision(ops_app: Flask) -> None:
    result = vaulta_cli(ops_app, "rehearse-upgrade")
    assert result.exit_code == 0, result.output
    assert f"{HEAD} down/up" in result.output
