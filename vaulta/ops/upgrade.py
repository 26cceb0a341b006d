"""``flask vaulta upgrade-safely``: upgrade to the newest revision while the app serves,
without ever losing a committed write (docs/deploy.md "Upgrading").

1. Maintenance mode goes on: writes answer 503, reads go on. (At a revision older than
   maintenance mode, the upgrade that brings it, writes are not paused; step 4 still loses
   none of them.)
2. The write barrier (drain.py) waits, at most ``UPGRADE_DRAIN_SECONDS``, for the write
   transactions in progress; if they do not finish, it stops there, nothing changed.
3. A backup, with its watermark.
4. Every pending revision, then verify-ledger, run in ONE transaction on the barrier's
   connection (PostgreSQL: transactional DDL; SQLite: ``BEGIN IMMEDIATE`` and batch
   mode), committed only when all revisions ran and the books verify. Any failure rolls
   all of it back: there is nothing to restore.
5. After a failure the database is compared with how it was (revision, tables, columns,
   indexes). Only if something was committed anyway (a revision that commits on its own,
   such as an ``autocommit_block``) is the backup restored, and only if no write is newer
   than the backup; otherwise maintenance mode stays on and the message says what to do.
6. Maintenance mode goes back to how it was (off), unless ``keep_maintenance``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from flask import current_app
from sqlalchemy.engine import Connection, Engine

from vaulta.extensions import db
from vaulta.ops.backup import (
    BackupError,
    Progress,
    backup_database,
    backup_watermark,
    default_backup_path,
    restore_database,
)
from vaulta.ops.drain import write_barrier
from vaulta.ops.restore import operator, refusal
from vaulta.ops.schema import SchemaStatus, current_revisions, schema_status
from vaulta.ops.startup import migrations_directory
from vaulta.ops.watermark import newer_rows
from vaulta.services import maintenance
from vaulta.services.ledger.checks import ledger_problems

Shape = dict[str, tuple[list[str], list[str]]]


class UpgradeFailed(RuntimeError):
    """The upgrade did not complete; the message says in what state it left the database."""


def alembic_config() -> Config:
    """The Alembic configuration ``flask db`` uses, for the current app's migrations folder."""
    migrate = current_app.extensions["migrate"]
    return migrate.migrate.get_config(migrate.directory)


def failure_reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else 'no message'}"


def schema_shape(engine: Engine) -> Shape:
    """Every table's columns and indexes: what a rolled-back upgrade must have left alone."""
    inspector = sa.inspect(engine)
    return {
        table: (
            sorted(c["name"] for c in inspector.get_columns(table)),
            sorted(str(i["name"]) for i in inspector.get_indexes(table)),
        )
        for table in inspector.get_table_names()
    }


def upgrade_safely(
    backup_path: Path | None,
    progress: Progress,
    *,
    drain_seconds: float,
    keep_maintenance: bool = False,
) -> SchemaStatus:
    """Upgrade the app's database to the newest revision; return the final status."""
    engine = db.engine
    directory = migrations_directory()
    before = schema_status(engine, directory)
    if before.at_head:
        progress(f"Nothing to do: the database is at the newest revision ({before.describe()}).")
        return before
    if before.ahead_of_code:
        raise UpgradeFailed(f"Nothing to upgrade: the database is at {before.describe()}.")
    db.session.remove()
    path = backup_path or default_backup_path(current_app.instance_path, engine.dialect.name)
    if path.exists():
        raise BackupError(f"{path} already exists: choose another backup path.")
    shape = schema_shape(engine)
    pausable = maintenance.table_exists(engine)
    previous = maintenance.read_state(engine) if pausable else None
    leave_on = keep_maintenance
    if pausable:
        heads = ", ".join(before.heads)
        maintenance.turn_on(engine, f"Upgrading the database to {heads}.", operator())
        progress("Maintenance mode is on: writes answer 503, reads are served.")
    else:
        progress(
            "This upgrade brings maintenance mode, so writes are not paused this time; the "
            "upgrade runs in one transaction, so none of them can be lost."
        )
    try:
        with write_barrier(engine, drain_seconds, progress, sqlite_foreign_keys=False) as conn:
            backup_database(engine, path, progress)
            try:
                progress(f"Upgrading in one transaction: {before.describe()}")
                _upgrade_in_one_transaction(conn)
            except BaseException as err:
                outcome, safe = _after_failure(engine, conn, path, before, shape, progress)
                leave_on = leave_on or not safe
                if not isinstance(err, Exception):
                    raise  # Ctrl-C and friends: handled as above, then passed on
                raise UpgradeFailed(f"{failure_reason(err)}. {outcome}") from err
    finally:
        db.session.remove()
        if pausable and leave_on:
            progress("Maintenance mode stays on: `flask vaulta maintenance off` ends it.")
        elif pausable:
            maintenance.put_back(engine, previous)
            progress("Maintenance mode is " + ("still on." if previous else "off."))
    return schema_status(engine, directory)


def _upgrade_in_one_transaction(conn: Connection) -> None:
    """Every pending revision and verify-ledger in one transaction, committed only if all
    passed (env.py runs the revisions inside the transaction it is handed)."""
    if not conn.in_transaction():
        conn.begin()  # PostgreSQL; on SQLite the barrier's BEGIN IMMEDIATE is it
    config = alembic_config()
    config.attributes["connection"] = conn
    command.upgrade(config, "heads")
    problems = ledger_problems(conn)
    if problems:
        raise UpgradeFailed("verify-ledger: " + "; ".join(problems[:5]))
    conn.commit()


def _after_failure(
    engine: Engine,
    conn: Connection,
    path: Path,
    before: SchemaStatus,
    shape: Shape,
    progress: Progress,
) -> tuple[str, bool]:
    """Roll back, make sure nothing is lost; (what happened, whether writes may resume)."""
    if conn.in_transaction():
        conn.rollback()
    if current_revisions(engine) == before.current and schema_shape(engine) == shape:
        progress("Rolled back: the database is exactly as before the upgrade.")
        return f"The upgrade was rolled back; nothing to restore (backup kept at {path}).", True
    progress(f"Part of the upgrade was committed: restoring {path} if nothing is newer")
    mark = backup_watermark(engine.dialect.name, path)
    assert mark is not None  # written by this very run
    newer = newer_rows(conn, mark, tables_not_in_backup=False)
    newer = [row for row in newer if row.erased_by_restore]
    if conn.in_transaction():
        conn.rollback()  # SQLite: the copy needs the write lock
    if newer:
        return f"{refusal(path, mark, newer)}\nMaintenance mode stays on.", False
    restore_database(engine, path, progress)
    return f"Part of it had been committed: the database was restored from {path}.", True
