"""``flask vaulta backup | restore | upgrade-safely | rehearse-upgrade | maintenance``.

These commands load the app through the ``flask`` command line, so the production schema
check never blocks them (see vaulta/ops/startup.py).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import OperationalError

from vaulta.extensions import db
from vaulta.models.base import utcnow
from vaulta.models.maintenance import REASON_MAX_LENGTH
from vaulta.ops.backup import BackupError, backup_database, default_backup_path
from vaulta.ops.drain import DrainTimeout, write_barrier
from vaulta.ops.rehearsal import rehearse_upgrade
from vaulta.ops.restore import operator, restore_backup
from vaulta.ops.upgrade import UpgradeFailed, upgrade_safely
from vaulta.services import maintenance

FILE = click.Path(dir_okay=False, path_type=Path)
DRAIN = click.option(
    "--drain-seconds",
    type=click.FloatRange(min=0),
    help="How long to wait for write transactions in progress (default UPGRADE_DRAIN_SECONDS).",
)


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _fail(message: str) -> click.exceptions.Exit:
    click.secho(f"FAILED: {message}", fg="red", err=True)
    return click.exceptions.Exit(1)


def _refused_by_database(err: OperationalError) -> str:
    """A lock wait that ran out (SQLite's busy timeout, PostgreSQL's lock_timeout) and the
    like: one line, no traceback."""
    return f"the database refused: {str(err.orig).strip().splitlines()[0]}"


def _drain_seconds(given: float | None) -> float:
    return float(current_app.config["UPGRADE_DRAIN_SECONDS"] if given is None else given)


@click.command("backup")
@click.argument("path", required=False, type=FILE)
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@with_appcontext
def backup_command(path: Path | None, force: bool) -> None:
    """Back up the database to PATH (default instance/backups/vaulta-<UTC time>.dump|.db),
    with its write watermark in PATH.watermark.json."""
    engine = db.engine
    target = path or default_backup_path(current_app.instance_path, engine.dialect.name)
    db.session.remove()
    try:
        backup_database(engine, target, _progress, force=force)
    except BackupError as err:
        raise _fail(str(err)) from None
    click.echo(str(target))


@click.command("restore")
@click.argument("path", type=FILE)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option(
    "--discard-newer-writes",
    is_flag=True,
    help="Restore even though writes committed after the backup would be erased (the "
    "current database is backed up first). Read docs/deploy.md before using it.",
)
@DRAIN
@with_appcontext
def restore_command(
    path: Path, yes: bool, discard_newer_writes: bool, drain_seconds: float | None
) -> None:
    """Replace everything in the database with the backup at PATH, unless that would erase
    a write committed after the backup."""
    engine = db.engine
    where = engine.url.render_as_string(hide_password=True)
    if discard_newer_writes:
        click.secho(
            "--discard-newer-writes: every write committed after this backup will be erased "
            "(a backup of the current database is taken first).",
            fg="red",
            bold=True,
            err=True,
        )
    if not yes:
        click.confirm(f"Replace ALL data in {where} with {path}?", abort=True)
    db.session.remove()
    keep_at = default_backup_path(
        current_app.instance_path, engine.dialect.name, label="vaulta-before-restore"
    )
    try:
        restored = restore_backup(
            engine,
            path,
            _progress,
            drain_seconds=_drain_seconds(drain_seconds),
            discard_newer_writes=discard_newer_writes,
            keep_current_at=keep_at,
        )
    except (BackupError, DrainTimeout) as err:
        raise _fail(str(err)) from None
    except OperationalError as err:
        raise _fail(_refused_by_database(err)) from None
    click.echo(f"Restored {where} from {path}.")
    if restored.kept_in is not None:
        click.secho(
            f"Writes newer than the backup were discarded; they are kept in {restored.kept_in}.",
            fg="yellow",
            err=True,
        )


@click.command("upgrade-safely")
@click.option("--backup", "backup_path", type=FILE, help="Where to write the backup first.")
@click.option(
    "--keep-maintenance",
    is_flag=True,
    help="Leave maintenance mode on after a successful upgrade (until the new code runs).",
)
@DRAIN
@with_appcontext
def upgrade_safely_command(
    backup_path: Path | None, keep_maintenance: bool, drain_seconds: float | None
) -> None:
    """Pause writes, back up, upgrade and verify the ledger in one transaction, resume writes.

    A failure rolls everything back; no committed write is ever lost."""
    try:
        status = upgrade_safely(
            backup_path,
            _progress,
            drain_seconds=_drain_seconds(drain_seconds),
            keep_maintenance=keep_maintenance,
        )
    except (UpgradeFailed, BackupError, DrainTimeout) as err:
        raise _fail(str(err)) from None
    except OperationalError as err:
        raise _fail(_refused_by_database(err)) from None
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


maintenance_cli = AppGroup(
    "maintenance", help="Maintenance mode: writes answer 503 on every instance, reads go on."
)


def _need_table() -> None:
    if not maintenance.table_exists(db.engine):
        raise _fail(
            "this database predates maintenance mode: run `flask vaulta upgrade-safely` first."
        )


@maintenance_cli.command("on")
@click.option(
    "--reason",
    default="Scheduled maintenance.",
    show_default=True,
    help=f"Shown to users (at most {REASON_MAX_LENGTH} characters).",
)
@click.option(
    "--minutes", type=click.IntRange(min=1), help="Expected length: the end shown, Retry-After."
)
@click.option("--no-wait", is_flag=True, help="Do not wait for writes in progress to finish.")
@DRAIN
@with_appcontext
def maintenance_on(
    reason: str, minutes: int | None, no_wait: bool, drain_seconds: float | None
) -> None:
    """Turn maintenance mode on, then wait until no write is in progress."""
    _need_table()
    if len(reason) > REASON_MAX_LENGTH:
        raise click.BadParameter(f"at most {REASON_MAX_LENGTH} characters", param_hint="--reason")
    ends_at = utcnow() + timedelta(minutes=minutes) if minutes else None
    try:
        state, previous = maintenance.turn_on(db.engine, reason, operator(), ends_at)
    except OperationalError as err:
        raise _fail(_refused_by_database(err)) from None
    click.echo(
        ("Maintenance mode was already on; now " if previous else "Maintenance mode ")
        + state.describe()
    )
    if no_wait:
        return
    try:
        with write_barrier(db.engine, _drain_seconds(drain_seconds), _progress):
            pass
    except DrainTimeout as err:
        raise _fail(f"maintenance mode is on, but {err}") from None
    click.echo("No write transaction is in progress.")


@maintenance_cli.command("off")
@with_appcontext
def maintenance_off() -> None:
    """Turn maintenance mode off: writes are accepted again."""
    _need_table()
    previous = maintenance.turn_off(db.engine)
    if previous is None:
        click.echo("Maintenance mode was already off.")
    else:
        click.echo(f"Maintenance mode is off (it was {previous.describe()}).")


@maintenance_cli.command("status")
@with_appcontext
def maintenance_status() -> None:
    """Say whether maintenance mode is on, since when, by whom and why."""
    _need_table()
    state = maintenance.read_state(db.engine)
    if state is None:
        click.echo("Maintenance mode is off.")
        return
    retry = state.retry_after(current_app.config["MAINTENANCE_RETRY_AFTER_SECONDS"])
    click.echo(f"Maintenance mode is {state.describe()} (Retry-After {retry} s).")


def register_ops_commands(group: AppGroup) -> None:
    for command in (
        backup_command,
        restore_command,
        upgrade_safely_command,
        rehearse_upgrade_command,
        maintenance_cli,
    ):
        group.add_command(command)
