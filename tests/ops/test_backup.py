"""``flask vaulta backup`` and ``restore`` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from tests import factories
from tests.ops.conftest import fingerprint
from vaulta.extensions import db


def invoke(app: Flask, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["vaulta", *args], input=input)


def test_backup_then_restore_brings_the_data_back(
    ops_app: Flask, with_ledger_data: None, tmp_path: Path
) -> None:
    before = fingerprint()
    target = tmp_path / "vaulta-backup"
    result = invoke(ops_app, "backup", str(target))
    assert result.exit_code == 0, result.output
    progress = "pages" if db.engine.dialect.name == "sqlite" else "pg_dump:"
    assert progress in result.output
    assert target.is_file()

    factories.make_customer("Added After The Backup")
    db.session.remove()
    assert fingerprint() != before

    result = invoke(ops_app, "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert fingerprint() == before


def test_backup_default_path_is_in_instance_backups(ops_app: Flask) -> None:
    result = invoke(ops_app, "backup")
    assert result.exit_code == 0, result.output
    (written,) = Path(ops_app.instance_path, "backups").iterdir()
    assert written.name.startswith("vaulta-")
    assert written.suffix == (".db" if db.engine.dialect.name == "sqlite" else ".dump")
    assert str(written) in result.output


def test_restore_asks_first_and_no_keeps_the_data(
    ops_app: Flask, with_ledger_data: None, tmp_path: Path
) -> None:
    target = tmp_path / "backup"
    assert invoke(ops_app, "backup", str(target)).exit_code == 0
    factories.make_customer("Kept")
    db.session.remove()
    before = fingerprint()
    result = invoke(ops_app, "restore", str(target), input="n\n")
    assert result.exit_code != 0
    assert "Replace ALL data" in result.output
    assert fingerprint() == before


def test_restore_of_a_missing_or_foreign_file_fails_cleanly(ops_app: Flask, tmp_path: Path) -> None:
    before = fingerprint()
    result = invoke(ops_app, "restore", str(tmp_path / "nope"), "--yes")
    assert result.exit_code == 1
    assert "No backup file" in result.output
    junk = tmp_path / "junk"
    junk.write_text("not a backup")
    result = invoke(ops_app, "restore", str(junk), "--yes")
    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert fingerprint() == before
