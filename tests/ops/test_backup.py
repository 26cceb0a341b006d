"""``flask vaulta backup`` and ``restore`` on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import vaulta_cli
from tests.ops.conftest import fingerprint
from vaulta.extensions import db
from vaulta.models import AuditEvent, Customer
from vaulta.ops import backup, watermark


def test_backup_then_restore_brings_the_data_back(
    ops_app: Flask, with_ledger_data: None, tmp_path: Path
) -> None:
    before = fingerprint()
    target = tmp_path / "vaulta-backup"
    result = vaulta_cli(ops_app, "backup", str(target))
    assert result.exit_code == 0, result.output
    progress = "pages" if db.engine.dialect.name == "sqlite" else "pg_dump:"
    assert progress in result.output
    assert target.is_file()
    assert Path(f"{target}.watermark.json").is_file()

    # Rows lost since the backup (an operator's mistake) are what a restore brings back.
    db.session.execute(sa.delete(AuditEvent))
    db.session.commit()
    assert fingerprint() != before

    result = vaulta_cli(ops_app, "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert "comes back: audit_events:" in result.output
    assert "Restored" in result.output
    assert fingerprint() == before


def test_restore_refuses_to_erase_writes_newer_than_the_backup(
    ops_app: Flask, with_ledger_data: None, tmp_path: Path
) -> None:
    target = tmp_path / "backup"
    assert vaulta_cli(ops_app, "backup", str(target)).exit_code == 0
    backed_up = fingerprint()
    newer_id = factories.make_customer("Added After The Backup").id
    db.session.remove()
    after = fingerprint()

    result = vaulta_cli(ops_app, "restore", str(target), "--yes")
    assert result.exit_code == 1
    assert "Refusing to restore" in result.output
    assert f"customers: 1 row(s) added or changed since the backup (newest id {newer_id}" in (
        result.output
    )
    assert "audit_events: 1 row(s) added or changed" in result.output
    assert "--discard-newer-writes" in result.output
    assert "Nothing was changed" in result.output
    assert fingerprint() == after  # maintenance mode is off again, too

    result = vaulta_cli(ops_app, "restore", str(target), "--yes", "--discard-newer-writes")
    assert result.exit_code == 0, result.output
    assert "DISCARDING customers: 1 row(s)" in result.output
    assert fingerprint() == backed_up
    # What was discarded was backed up first: restoring that copy brings it all back.
    (kept,) = Path(ops_app.instance_path, "backups").glob("vaulta-before-restore-*[bp]")
    assert str(kept) in result.output
    result = vaulta_cli(ops_app, "restore", str(kept), "--yes")
    assert result.exit_code == 0, result.output
    assert fingerprint() == after


def test_backup_refuses_to_overwrite_unless_forced(ops_app: Flask, tmp_path: Path) -> None:
    target = tmp_path / "backup"
    target.write_text("an older backup")
    result = vaulta_cli(ops_app, "backup", str(target))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "--force" in result.output
    assert target.read_text() == "an older backup"
    assert not Path(f"{target}.watermark.json").exists()

    result = vaulta_cli(ops_app, "backup", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != b"an older backup"
    assert Path(f"{target}.watermark.json").is_file()


def test_backup_default_path_is_in_instance_backups(ops_app: Flask) -> None:
    result = vaulta_cli(ops_app, "backup")
    assert result.exit_code == 0, result.output
    written, mark = sorted(Path(ops_app.instance_path, "backups").iterdir())
    assert mark.name == f"{written.name}.watermark.json"
    assert written.name.startswith("vaulta-")
    assert written.suffix == (".db" if db.engine.dialect.name == "sqlite" else ".dump")
    assert str(written) in result.output


def test_restore_asks_first_and_no_keeps_the_data(
    ops_app: Flask, with_ledger_data: None, tmp_path: Path
) -> None:
    target = tmp_path / "backup"
    assert vaulta_cli(ops_app, "backup", str(target)).exit_code == 0
    factories.make_customer("Kept")
    db.session.remove()
    before = fingerprint()
    result = vaulta_cli(ops_app, "restore", str(target), input="n\n")
    assert result.exit_code != 0
    assert "Replace ALL data" in result.output
    assert fingerprint() == before


def test_restore_of_a_missing_or_foreign_file_fails_cleanly(ops_app: Flask, tmp_path: Path) -> None:
    before = fingerprint()
    result = vaulta_cli(ops_app, "restore", str(tmp_path / "nope"), "--yes")
    assert result.exit_code == 1
    assert "No backup file" in result.output
    junk = tmp_path / "junk"
    junk.write_text("not a backup")
    result = vaulta_cli(ops_app, "restore", str(junk), "--yes")
    assert result.exit_code == 1
    assert "FAILED" in result.output
    assert fingerprint() == before


@pytest.mark.parametrize("own_database_url", ["postgresql"], indirect=True)
def test_a_backup_without_its_watermark_is_not_restored_blindly(
    ops_app: Flask, with_ledger_data: None, tmp_path: Path
) -> None:
    target = tmp_path / "backup.dump"
    assert vaulta_cli(ops_app, "backup", str(target)).exit_code == 0
    mark = Path(f"{target}.watermark.json")
    text = mark.read_text()
    mark.write_text(text.replace('"sha256": "', '"sha256": "0'))
    result = vaulta_cli(ops_app, "restore", str(target), "--yes")
    assert result.exit_code == 1
    assert "does not belong to" in result.output

    mark.unlink()
    before = fingerprint()
    result = vaulta_cli(ops_app, "restore", str(target), "--yes")
    assert result.exit_code == 1
    assert "there is no watermark next to it" in result.output
    assert fingerprint() == before

    result = vaulta_cli(ops_app, "restore", str(target), "--yes", "--discard-newer-writes")
    assert result.exit_code == 0, result.output
    assert "Backing up the current database first" in result.output


@pytest.mark.parametrize("own_database_url", ["postgresql"], indirect=True)
def test_the_watermark_describes_exactly_what_pg_dump_saw(
    ops_app: Flask, with_ledger_data: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write committed while pg_dump starts is in neither the dump nor its watermark (one
    exported snapshot), so a restore sees it as newer and refuses."""
    real_dump = backup.dump_postgres
    customers_before = db.session.scalar(sa.select(sa.func.count()).select_from(Customer))
    db.session.remove()

    def dump_after_a_write(*args: Any, **kwargs: Any) -> None:
        with ops_app.app_context():
            factories.make_customer("Written During The Dump")
            db.session.remove()
        real_dump(*args, **kwargs)

    monkeypatch.setattr(backup, "dump_postgres", dump_after_a_write)
    target = tmp_path / "backup.dump"
    assert vaulta_cli(ops_app, "backup", str(target)).exit_code == 0
    monkeypatch.setattr(backup, "dump_postgres", real_dump)
    mark = watermark.read(target)
    assert mark is not None
    assert mark.tables["customers"].rows == customers_before

    result = vaulta_cli(ops_app, "restore", str(target), "--yes")
    assert result.exit_code == 1
    assert "customers: 1 row(s) added or changed since the backup" in result.output
    result = vaulta_cli(ops_app, "restore", str(target), "--yes", "--discard-newer-writes")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == customers_before
