"""``flask vaulta restore``: put a backup back without erasing a write committed after it.

1. Maintenance mode goes on (writes answer 503; reads go on) and the write barrier waits
   for the write transactions in progress (drain.py).
2. The backup's watermark is compared with the live database (watermark.py). If a row was
   added or changed since the backup — or the backup has no watermark — the restore
   refuses, says exactly what would be lost and what to do, and changes nothing. (Rows
   deleted since only come back: they are listed, and do not stop it.)
3. Only with ``discard_newer_writes`` does it go ahead anyway, and then only after a backup
   of the current database (what would be lost stays on disk).
4. Maintenance mode is put back as it was before the command.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from vaulta.ops.backup import (
    BackupError,
    Progress,
    backup_database,
    backup_watermark,
    restore_database,
)
from vaulta.ops.drain import write_barrier
from vaulta.ops.watermark import NewerRows, Watermark, newer_rows, sidecar
from vaulta.services import maintenance
from vaulta.services.maintenance import Maintenance


class NewerWrites(BackupError):
    """The restore was refused: it would erase writes committed after the backup."""


@dataclass(frozen=True)
class Restored:
    discarded: tuple[NewerRows, ...]
    kept_in: Path | None  # the backup of what was discarded


def operator() -> str:
    """Who runs this command, for maintenance mode's "started by"."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def refusal(path: Path, mark: Watermark, newer: list[NewerRows]) -> str:
    lines = "\n".join(f"  - {row.describe()}" for row in newer)
    revision = ", ".join(mark.revisions) or "none"
    return (
        f"Refusing to restore {path}: the database holds writes committed after this backup "
        f"was taken ({mark.taken_at} UTC, revision {revision}). Restoring would erase them:\n"
        f"{lines}\n"
        "Nothing was changed. What to do:\n"
        "  - Usually: keep the current data. A failed upgrade-safely needs no restore (it "
        "rolls back); restore only to undo something the data itself got wrong.\n"
        "  - To go back to the backup anyway: export or note the rows listed above, then run "
        "the restore again with --discard-newer-writes. It first backs up the current "
        "database (so nothing is destroyed), then restores; re-enter the lost writes after."
    )


def no_watermark(path: Path) -> str:
    return (
        f"Refusing to restore {path}: there is no watermark next to it ({sidecar(path).name}), "
        "so it is unknown which committed writes a restore would erase. Backups made by "
        "`flask vaulta backup` and `upgrade-safely` have one. Nothing was changed. To restore "
        "anyway, run again with --discard-newer-writes: the current database is backed up "
        "first."
    )


def restore_backup(
    engine: Engine,
    path: Path,
    progress: Progress,
    *,
    drain_seconds: float,
    discard_newer_writes: bool,
    keep_current_at: Path,
) -> Restored:
    """Restore ``path`` as the module doc says; ``keep_current_at`` is where the current
    database is backed up before newer writes are discarded."""
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    mark = backup_watermark(engine.dialect.name, path)
    had_table = maintenance.table_exists(engine)
    before = maintenance.read_state(engine) if had_table else None
    if had_table:
        maintenance.turn_on(engine, f"Restoring the backup {path.name}.", operator())
        progress("Maintenance mode is on: writes answer 503 until the restore ends.")
    try:
        with write_barrier(engine, drain_seconds, progress) as conn:
            erased = _erased(conn, mark, progress)
            if conn.in_transaction():
                conn.rollback()  # SQLite: the copy below needs the write lock
            if erased == []:
                restore_database(engine, path, progress)
                return Restored((), None)
            if not discard_newer_writes:
                raise NewerWrites(refusal(path, mark, erased) if mark else no_watermark(path))
            for row in erased or ():
                progress(f"DISCARDING {row.describe()}")
            progress(f"Backing up the current database first, to {keep_current_at}")
            kept = backup_database(engine, keep_current_at, progress)
            restore_database(engine, path, progress)
            return Restored(tuple(erased or ()), kept)
    finally:
        _put_back(engine, before, progress)


def _erased(conn: Connection, mark: Watermark | None, progress: Progress) -> list[NewerRows] | None:
    """The rows a restore would erase; None when unknown (no watermark)."""
    if mark is None:
        return None
    newer = newer_rows(conn, mark)
    for row in newer:
        if not row.erased_by_restore:
            progress(f"comes back: {row.describe()}")
    return [row for row in newer if row.erased_by_restore]


def _put_back(engine: Engine, before: Maintenance | None, progress: Progress) -> None:
    """Maintenance mode as it was before the command (off if its table did not exist)."""
    if not maintenance.table_exists(engine):
        progress(
            "The database is now at a revision without maintenance mode: deploy the code of "
            "that revision (or upgrade) before serving."
        )
        return
    maintenance.put_back(engine, before)
    progress("Maintenance mode is " + ("still on." if before else "off again."))
