"""``flask vaulta backup | restore | upgrade-safely | rehearse-upgrade``.

These commands load the app through the ``flask`` command line, so the production schema
check never blocks them (see vaulta/ops/startup.py).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from vaulta.extensions import db
from vaulta.ops.backup import BackupError, backup_database, default_backup_path, restore_database
from vaulta.ops.rehearsal import rehearse_upgrade
from vaulta.ops.upgrade import UpgradeFailed, upgrade_safely

FILE = click.Path(dir_okay=False, path_type=Path)


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _fail(message: str) -> click.exceptions.Exit:
    click.secho(f"FAILED: {message}", fg="red", err=True)
    return click.exceptions.Exit(1)


@click.command("backup")
@click.argument("path", required=False, type=FILE)
@with_appcontext
def backup_command(path: Path | None) -> None:
    """Back up the database to PATH (default instance/backups/vaulta-<UTC time>.dump|.db)."""
    engine = db.engine
    target = path or default_backup_path(current_app.instance_path, engine.dialect.name)
    db.session.remove()
    try:
        backup_database(engine, target, _progress)
    except BackupError as err:
        raise _fail(str(err)) from None
    click.echo(str(target))


@click.command("restore")
@click.argument("path", type=FILE)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace everything in the database with the backup at PATH."""
    engine = db.engine
    where = engine.url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Replace ALL data in {where} with {path}?", abort=True)
    db.session.remove()
    try:
        restore_database(engine, path, _progress)
    except BackupError as err:
        raise _fail(str(err)) from None
    click.echo(f"Restored {where} from {path}.")


@click.command("upgrade-safely")
@click.option("--backup", "backup_path", type=FILE, help="Where to write the backup first.")
@with_appcontext
def upgrade_safely_command(backup_path: Path | None) -> None:
    """Back up, upgrade to the newest revision, verify the ledger; restore on any failure."""
    try:
        status = upgrade_safely(backup_path, _progress)
    except (UpgradeFailed, BackupError) as err:
        raise _fail(str(err)) from None
    click.echo(f"Database at {status.describe()}; ledger verified.")


@click.command("rehearse-upgrade")
@click.option("--from-backup", "from_backup", type=FILE, help="Rehearse on this backup.")
@with_appcontext
def rehearse_upgrade_command(from_backup: Path | None) -> None:
    """Apply the pending revisions to a scratch copy, timed and checked (live data untouched)."""
    try:
        result = rehearse_upgrade(from_backup, _progress)
    except BackupError as err:
        raise _fail(str(err)) from None
    click.echo(result.table())
    if not result.ok:
        raise _fail("the rehearsal found problems (see the table)")
    click.echo("Rehearsal passed.")


def register_ops_commands(group: AppGroup) -> None:
    for command in (
        backup_command,
        restore_command,
        upgrade_safely_command,
        rehearse_upgrade_command,
    ):
        group.add_command(command)
