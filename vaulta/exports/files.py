"""Export files written by the background job, and their purge.

A job's file is written under ``EXPORT_DIR`` (default ``<instance>/exports``) as
``export-<id>-<random>.<csv|xlsx>``: first as ``….part``, renamed once complete, so a
download never sees half a file. CSV goes through ``web.csv_chunks`` and XLSX through
``spreadsheets.write_xlsx`` (constant-memory mode), the same writers as the streamed
downloads, with the same formula neutralisation. The hourly purge deletes the files of
expired jobs and anything else in the directory older than the retention that no done job
points at (a worker that died mid-file), fails jobs left running that long, and enqueues
again jobs whose task was lost.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from vaulta.exports.kinds import KINDS, ExportKind
from vaulta.models import utcnow
from vaulta.services.exports import export_jobs
from vaulta.spreadsheets import MAX_DATA_ROWS, write_xlsx
from vaulta.web import csv_chunks

log = logging.getLogger(__name__)
REQUEUE_AFTER = timedelta(minutes=10)


def export_dir() -> Path:
    """The directory of export files (created when missing)."""
    configured = current_app.config.get("EXPORT_DIR")
    path = Path(configured or os.path.join(current_app.instance_path, "exports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def retention() -> timedelta:
    return timedelta(hours=current_app.config["EXPORT_RETENTION_HOURS"])


class _Counted:
    """Rows passed through, counted."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Any]:
        for row in self.rows:
            self.count += 1
            yield row


def write_export(kind: ExportKind, file_format: str, rows: Iterable[Any], path: Path) -> int:
    """Write ``rows`` as ``kind``'s CSV or XLSX file at ``path``; how many rows it holds (an
    XLSX sheet stops at ``MAX_DATA_ROWS`` with a note pointing at the CSV)."""
    counted = _Counted(rows)
    if file_format == "xlsx":
        with path.open("wb") as out:
            write_xlsx(out, kind.sheet, kind.columns, (kind.xlsx_row(r) for r in counted))
        return min(counted.count, MAX_DATA_ROWS)
    else:
        with path.open("w", encoding="utf-8", newline="") as text:
            for chunk in csv_chunks(kind.csv_header, (kind.csv_row(r) for r in counted)):
                text.write(chunk)
    return counted.count


def run_job(job_id: int) -> str:
    """The worker's part: claim the job, write its file, record the outcome."""
    job = export_jobs.claim(job_id)
    if job is None:
        return "skipped"
    kind = KINDS[job.kind]
    name = f"export-{job.id}-{secrets.token_hex(8)}.{job.file_format}"
    final = export_dir() / name
    partial = final.with_name(name + ".part")
    try:
        count = write_export(kind, job.file_format, kind.rows(job.filters), partial)
        partial.rename(final)
    except Exception as err:
        partial.unlink(missing_ok=True)
        log.exception("export %s failed", job_id)
        export_jobs.fail(job_id, f"The export could not be written ({type(err).__name__}).")
        return "failed"
    export_jobs.finish(
        job_id,
        file_name=name,
        row_count=count,
        size_bytes=final.stat().st_size,
        keep_for=retention(),
    )
    return "done"


def purge(requeue: Callable[[int], Any]) -> int:
    """Expire what is due and delete its files and stray ones; how many files went."""
    now = utcnow()
    keep = retention()
    names = set(export_jobs.expire_due(now=now))
    export_jobs.fail_stalled(now - keep)
    for job_id in export_jobs.queued_before(now - REQUEUE_AFTER):
        requeue(job_id)
    directory = export_dir()
    kept = export_jobs.kept_file_names()
    cutoff = (now - keep).timestamp()
    removed = 0
    for path in directory.iterdir():
        stray = path.name not in kept and path.stat().st_mtime < cutoff
        if path.is_file() and (path.name in names or stray):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
