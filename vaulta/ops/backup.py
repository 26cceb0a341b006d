"""Backups of the database the app uses: ``pg_dump``/``pg_restore`` (custom format) on
PostgreSQL, the sqlite3 online backup API on SQLite. Progress goes to a callback, one line
at a time. A restore closes the engine's pooled connections before and after; a backup
only reads, through connections of its own (the app may keep serving meanwhile).

Every backup gets its write watermark next to it (``PATH.watermark.json``, see
watermark.py), measured on exactly the data backed up: on PostgreSQL in the transaction
whose snapshot ``pg_dump --snapshot`` then dumps, on SQLite from the copy itself. A backup
never overwrites a file unless asked to, and appears under its name only once complete.
Restoring safely (maintenance, the watermark comparison) is restore.py's job.
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
from sqlalchemy.pool import NullPool

from vaulta.ops import watermark
from vaulta.ops.watermark import Watermark

Progress = Callable[[str], None]
SQLITE_PAGES_PER_STEP = 256
# A table entry of ``pg_restore --list``: "<id>; <oid> <oid> TABLE <schema> <name> <owner>".
TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) (\S+)$")


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why."""


def _quiet(_: str) -> None:
    return None


def default_backup_path(
    instance_path: str, backend: str, now: datetime | None = None, *, label: str = "vaulta"
) -> Path:
    """instance/backups/<label>-<UTC timestamp>.dump (PostgreSQL) or .db (SQLite)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    suffix = ".db" if backend == "sqlite" else ".dump"
    return Path(instance_path) / "backups" / f"{label}-{stamp}{suffix}"


def backup_database(
    engine: Engine, path: Path, progress: Progress = _quiet, *, force: bool = False
) -> Path:
    """Write a complete backup of ``engine``'s database to ``path``, and its watermark to
    ``PATH.watermark.json``. An existing ``path`` is refused unless ``force``."""
    if path.exists() and not force:
        raise BackupError(
            f"{path} already exists: choose another path, or pass --force to overwrite it."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        if engine.dialect.name == "sqlite":
            copy_sqlite(sqlite_file(engine.url), partial, progress)
            mark = measure_sqlite_file(partial)
        else:
            mark = _dump_postgres_with_watermark(engine.url, partial, progress)
        mark.backup = {**watermark.file_facts(partial), "file": path.name}
        watermark.write(mark, path)  # first: a crash in between leaves a mismatch, not a gap
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    progress(f"Backup written to {path} (watermark: {watermark.sidecar(path).name})")
    return path


def backup_watermark(backend: str, path: Path) -> Watermark | None:
    """The watermark of the backup at ``path``: SQLite measures the backup itself;
    PostgreSQL reads ``PATH.watermark.json`` (None when there is none) and checks that it
    belongs to this file."""
    if backend == "sqlite":
        return measure_sqlite_file(path)
    try:
        mark = watermark.read(path)
    except (ValueError, KeyError, TypeError) as err:
        raise BackupError(f"{watermark.sidecar(path)} cannot be read: {err}") from err
    if mark is None:
        return None
    facts = watermark.file_facts(path)
    if (mark.backup.get("bytes"), mark.backup.get("sha256")) != (facts["bytes"], facts["sha256"]):
        raise BackupError(
            f"{watermark.sidecar(path)} does not belong to {path} (size or SHA-256 differ): "
            "the backup was replaced or altered after it was taken."
        )
    return mark


def measure_sqlite_file(path: Path) -> Watermark:
    """The watermark of a SQLite database file (a backup)."""
    if not path.is_file():
        raise BackupError(f"No SQLite database at {path}.")
    reader = sa.create_engine(URL.create("sqlite", database=str(path)), poolclass=NullPool)
    try:
        with reader.connect() as conn:
            return watermark.measure(conn)
    except sa.exc.DatabaseError as err:
        raise BackupError(f"{path} is not a SQLite database: {err.orig}") from err
    finally:
        reader.dispose()


def _dump_postgres_with_watermark(url: URL, path: Path, progress: Progress) -> Watermark:
    """pg_dump of exactly the snapshot the watermark was measured on (exported snapshot)."""
    snapshots = sa.create_engine(url, poolclass=NullPool)
    try:
        with snapshots.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                mark = watermark.measure(conn)
                dump_postgres(url, path, progress, snapshot=snapshot)
    finally:
        snapshots.dispose()
    return mark


def restore_database(engine: Engine, path: Path, progress: Progress = _quiet) -> None:
    """Replace the contents of ``engine``'s database with the backup at ``path``."""
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    engine.dispose()
    try:
        if engine.dialect.name == "sqlite":
            copy_sqlite(path, sqlite_file(engine.url), progress, standalone=False)
        else:
            restore_postgres(engine.url, path, progress)
    finally:
        engine.dispose()
    progress(f"Restored {path}")


def sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def copy_sqlite(
    source: Path, target: Path, progress: Progress = _quiet, *, standalone: bool = True
) -> None:
    """Copy a whole SQLite database page by page with the online backup API.

    Readers and writers of ``source`` carry on meanwhile. A ``standalone`` target (a
    backup) ends up a single self-contained file (rollback journal mode); a live target
    (a restore) keeps its mode, which other connections to it share.
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
        if standalone:
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


def dump_postgres(
    url: URL, path: Path, progress: Progress = _quiet, *, snapshot: str | None = None
) -> None:
    """pg_dump --format=custom of the database at ``url`` into ``path`` (of an exported
    ``snapshot`` when given)."""
    args = ["pg_dump", "--format=custom", f"--file={path}"]
    _pg_run([*args, f"--snapshot={snapshot}"] if snapshot else args, url, progress)


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
