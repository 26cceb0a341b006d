"""Exports: the choice between streaming now and a background job, the job's status (a
page, and its htmx part that polls until the file is ready) and the download.

``respond`` reads at most ``EXPORT_INLINE_MAX_ROWS`` + 1 rows: when they are all there
are, the file is streamed as before; otherwise the rows are left unread, an export job is
recorded (audited) and queued, and the browser goes to the job's page. Only the user who
asked sees a job or its file (anyone else: 404), and only while they still hold the
export's permission (403).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, islice
from typing import Any

from flask import abort, current_app, flash, send_file, stream_with_context, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user
from vaulta.exports import bp
from vaulta.exports.files import export_dir
from vaulta.exports.kinds import KINDS, ExportKind
from vaulta.models import utcnow
from vaulta.models.export_job import EXPORT_DONE
from vaulta.ops.queue import prepare_export
from vaulta.services.exports import export_jobs
from vaulta.services.exports.export_jobs import JobView
from vaulta.services.identity import permissions
from vaulta.spreadsheets import XLSX_MIMETYPE, send_xlsx
from vaulta.web import redirect_to, render, stream_csv

MIMETYPES = {"csv": "text/csv", "xlsx": XLSX_MIMETYPE}


def respond(kind: ExportKind, file_format: str, filters: dict[str, Any]) -> Response:
    """``kind``'s export with ``filters`` (JSON-ready; checked by ``kind.rows``) in
    ``file_format``: streamed now when small, else a background job."""
    rows = kind.rows(filters)
    limit = current_app.config["EXPORT_INLINE_MAX_ROWS"]
    head = list(islice(rows, limit + 1))
    if len(head) <= limit:
        return _inline(kind, file_format, chain(head, rows))
    if hasattr(rows, "close"):
        rows.close()  # the snapshot behind it ends now
    job_id = export_jobs.request_export(kind.name, file_format, filters, actor=acting_user())
    prepare_export(job_id)
    flash(
        f"More than {limit:,} rows match: your export is being prepared. "
        "This page shows the download link once it is ready.",
        "info",
    )
    return redirect_to(url_for("exports.status", job_id=job_id))


def download_name(kind: ExportKind, file_format: str, when: Any = None) -> str:
    return f"{kind.stem}-{(when or utcnow()):%Y%m%d-%H%M%S}.{file_format}"


def _inline(kind: ExportKind, file_format: str, rows: Iterator[Any]) -> Response:
    name = download_name(kind, file_format)
    if file_format == "xlsx":
        return send_xlsx(name, kind.sheet, kind.columns, (kind.xlsx_row(r) for r in rows))
    lines = (kind.csv_row(r) for r in rows)
    return stream_csv(name, kind.csv_header, stream_with_context(lines))


def _own_job(job_id: int) -> tuple[JobView, ExportKind]:
    """The signed-in user's job (anyone else's: 404) while they may still export it."""
    user = acting_user()
    job = export_jobs.get_own(job_id, actor=user)
    kind = KINDS[job.kind]
    if not permissions.has_permission(user, kind.permission):
        abort(403)
    return job, kind


@bp.get("/exports/<int:job_id>")
@login_required
def status(job_id: int) -> Response:
    """The job's status; its htmx part polls itself every few seconds until it is over."""
    job, kind = _own_job(job_id)
    return render("exports/status.html", "exports/_status.html", job=job, kind=kind)


@bp.get("/exports/<int:job_id>/download")
@login_required
def download(job_id: int) -> Response:
    """The finished file (audited); gone once expired."""
    job, kind = _own_job(job_id)
    if job.status != EXPORT_DONE or not job.file_name:
        abort(404)
    path = export_dir() / job.file_name
    if not path.is_file():
        abort(404)
    export_jobs.record_download(job, actor=acting_user())
    return send_file(
        path,
        mimetype=MIMETYPES[job.file_format],
        as_attachment=True,
        download_name=download_name(kind, job.file_format, job.created_at),
        etag=False,
        max_age=0,
    )
