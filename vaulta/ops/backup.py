"""Backups of the database the app uses: ``pg_dump``/``pg_restore`` (custom format) on
PostgreSQL, the sqlite3 online backup API on SQLite. Progress goes to a callback, one line
at a time. The engine's pooled connections are closed around every operation.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

Progress = Callable[[str], None]
SQLITE_PAGES_PER_STEP = 256
# A table entry of ``pg_restore --list``: "<id>; <oid> <oid> TABLE <schema> <name> <owner>".
TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) (\S+)$")


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why."""


def _quiet(_: str) -> None:
    return None


def default_backup_path(instance_path: str, backend: str, now: datetime | None = None) -> Path:
    """instance/backups/vaulta-<UTC timestamp>.dump (PostgreSQL) or .db (SQLite)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    suffix = ".db" if backend == "sqlite" else ".dump"
    return Path(instance_path) / "backups" / f"vaulta-{stamp}{suffix}"


def backup_database(engine: Engine, path: Path, progress: Progress = _quiet) -> Path:
    """Write a complete backup of ``engine``'s database to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine.dispose()
    try:
        if engine.dialect.name == "sqlite":
            copy_sqlite(sqlite_file(engine.url), path, progress)
        else:
            dump_postgres(engine.url, path, progress)
    finally:
        engine.dispose()
    progress(f"Backup written to {path}")
    return path


def restore_database(engine: Engine, path: Path, progress: Progress = _quiet) -> None:
    """Replace the contents of ``engine``'s database with the backup at ``path``."""
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    engine.dispose()
    try:
        if engine.dialect.name == "sqlite":
            copy_sqlite(path, sqlite_file(engine.url), progress)
        else:
            restore_postgres(engine.url, path, progress)
    finally:
        engine.dispose()
    progress(f"Restored {path}")


def sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def copy_sqlite(source: Path, target: Path, progress: Progress = _quiet) -> None:
    """Copy a whole SQLite database page by page with the online backup API.

    Readers and writers of ``source`` carry on meanwhile; ``target`` ends up a single
    self-contained file (rollback journal mode).
    """
    if not source.is_file():
        raise BackupError(f"No SQLite database at {source}.")

    def report(_status: int, remaining: int, total: int) -> None:
        progress(f"copied {total - remaining}/{total} pages")

    src = sqlite3.connect(source, timeout=15)
    dst = sqlite3.connect(target, timeout=15)
    try:
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # not a database: fails
        src.backup(dst, pages=SQLITE_PAGES_PER_STEP, progress=report)
        dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.DatabaseError as err:
        raise BackupError(f"SQLite copy from {source} failed: {err}") from err
    finally:
        dst.close()
        src.close()


def libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_run(args: list[str], url: URL, progress: Progress, *, file: Path | None = None) -> None:
    """Run pg_dump / pg_restore against ``url``, passing its --verbose lines to ``progress``.

    ``file`` is the input of pg_restore (it goes last).
    """
    target, env = libpq_target(url)
    command = [*args, "--verbose", "--no-password", f"--dbname={target}"]
    if file is not None:
        command.append(str(file))
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed program, arguments are not a shell
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
    except FileNotFoundError as err:
        raise BackupError(f"{args[0]} is not installed (PostgreSQL client tools).") from err
    tail: list[str] = []
    with process:
        assert process.stderr is not None
        for line in process.stderr:
            line = line.rstrip()
            progress(line)
            tail = [*tail[-4:], line]
    if process.returncode != 0:
        raise BackupError(f"{args[0]} failed (exit {process.returncode}): " + " / ".join(tail))


def dump_postgres(url: URL, path: Path, progress: Progress = _quiet) -> None:
    """pg_dump --format=custom of the database at ``url`` into ``path``."""
    _pg_run(["pg_dump", "--format=custom", f"--file={path}"], url, progress)


def restore_postgres(url: URL, path: Path, progress: Progress = _quiet) -> None:
    """pg_restore --clean into ``url``, in one transaction.

    Tables the backup does not know (left by revisions that ran after it was taken) are
    dropped first, so the database ends up exactly as backed up.
    """
    _drop_tables_missing_from(url, path, progress)
    args = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _pg_run(args, url, progress, file=path)


def _tables_in_backup(path: Path) -> set[tuple[str, str]]:
    result = subprocess.run(  # noqa: S603 - fixed program
        ["pg_restore", "--list", str(path)],  # noqa: S607 - found on PATH like pg_dump
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"{path} is not a pg_dump custom-format backup: {result.stderr.strip()}")
    return {
        (m.group(1), m.group(2))
        for line in result.stdout.splitlines()
        if (m := TOC_TABLE.match(line.strip()))
    }


def _drop_tables_missing_from(url: URL, path: Path, progress: Progress) -> None:
    wanted = _tables_in_backup(path)
    schemas = {schema for schema, _ in wanted} | {"public"}
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT schemaname, tablename FROM pg_tables "
                    "WHERE schemaname = ANY(:schemas) ORDER BY 1, 2"
                ),
                {"schemas": sorted(schemas)},
            ).all()
            for schema, table in rows:
                if (schema, table) not in wanted:
                    progress(f"dropping {schema}.{table} (not in the backup)")
                    conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{schema}"."{table}" CASCADE')
    finally:
        engine.dispose()
