"""``flask vaulta upgrade-safely``: back up, upgrade to the newest revision, verify the ledger;
on any failure restore the backup, so the database is exactly as it was."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import current_app

from vaulta.extensions import db
from vaulta.ops.backup import Progress, backup_database, default_backup_path, restore_database
from vaulta.ops.schema import SchemaStatus, schema_status
from vaulta.ops.startup import migrations_directory
from vaulta.services.ledger_checks import verify_ledger


class UpgradeFailed(RuntimeError):
    """The upgrade did not complete; the database was restored from the backup."""


def alembic_config() -> Config:
    """The Alembic configuration ``flask db`` uses, for the current app's migrations folder."""
    migrate = current_app.extensions["migrate"]
    return migrate.migrate.get_config(migrate.directory)


def failure_reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else 'no message'}"


def upgrade_safely(backup_path: Path | None, progress: Progress) -> SchemaStatus:
    """Upgrade the app's database to the newest revision; return the final status."""
    engine = db.engine
    directory = migrations_directory()
    before = schema_status(engine, directory)
    if before.at_head:
        progress(f"Nothing to do: the database is at the newest revision ({before.describe()}).")
        return before
    db.session.remove()
    path = backup_path or default_backup_path(current_app.instance_path, engine.dialect.name)
    backup_database(engine, path, progress)
    try:
        progress(f"Upgrading: {before.describe()}")
        command.upgrade(alembic_config(), "heads")
        problems = verify_ledger()
        if problems:
            raise UpgradeFailed("verify-ledger: " + "; ".join(problems[:5]))
    except BaseException as err:
        db.session.remove()
        reason = failure_reason(err)
        progress(f"Upgrade failed ({reason}); restoring {path}")
        restore_database(engine, path, progress)
        if not isinstance(err, Exception):
            raise  # Ctrl-C and friends: restored, then passed on
        raise UpgradeFailed(f"{reason}. The database was restored from {path}.") from err
    finally:
        db.session.remove()
    return schema_status(engine, directory)
