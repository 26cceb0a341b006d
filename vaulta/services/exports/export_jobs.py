"""Export jobs: one row per export too large to stream at once (vaulta/exports/).

Writes are one transaction each: the request (with its ``export.requested`` audit event),
the worker's claim (``queued`` to ``running``, conditional, so a task delivered twice runs
once), its outcome (``done`` with the file and its row count, or ``failed``), the download
(``export.downloaded``) and the purge (``done`` to ``expired`` once ``expires_at`` passed).
Only the requester ever sees a job: anyone else gets ``NotFound``, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from vaulta.models import ExportJob, User, utcnow
from vaulta.models.export_job import (
    EXPORT_DONE,
    EXPORT_EXPIRED,
    EXPORT_FAILED,
    EXPORT_FORMATS,
    EXPORT_KINDS,
    EXPORT_QUEUED,
    EXPORT_RUNNING,
)
from vaulta.services import audit
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.unit_of_work import session, write_transaction

_j = ExportJob.__table__


@dataclass(frozen=True)
class JobView:
    """An export job as its pages and the worker read it."""

    id: int
    requested_by_id: int
    kind: str
    file_format: str
    filters: dict[str, Any]
    status: str
    row_count: int | None
    file_name: str | None
    size_bytes: int | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None

    @property
    def pending(self) -> bool:
        return self.status in (EXPORT_QUEUED, EXPORT_RUNNING)


_COLUMNS = [getattr(_j.c, name) for name in JobView.__dataclass_fields__]


def _view(row: Any) -> JobView:
    return JobView(**row._mapping)


def get(job_id: int) -> JobView | None:
    row = session().execute(sa.select(*_COLUMNS).where(_j.c.id == job_id)).first()
    return None if row is None else _view(row)


def get_own(job_id: int, *, actor: User) -> JobView:
    """The job if ``actor`` asked for it; anyone else's (or none) is ``NotFound``."""
    job = get(job_id)
    if job is None or job.requested_by_id != audit.actor_id(actor):
        raise NotFound("No such export.")
    return job


def request_export(kind: str, file_format: str, filters: dict[str, Any], *, actor: User) -> int:
    """Record a queued export of ``kind`` in ``file_format`` with ``filters`` (JSON-ready);
    its id. The caller enqueues the task once this has committed. The same request of the
    same user still queued or running is that job (a double click or a reload makes one)."""
    if kind not in EXPORT_KINDS or file_format not in EXPORT_FORMATS:
        raise InvalidInput("No such export.")
    same = _pending_same(audit.actor_id(actor), kind, file_format, filters)
    if same is not None:
        return same
    with write_transaction() as s:
        job_id = s.execute(
            sa.insert(_j)
            .values(
                requested_by_id=audit.actor_id(actor),
                kind=kind,
                file_format=file_format,
                filters=filters,
                status=EXPORT_QUEUED,
                created_at=utcnow(),
            )
            .returning(_j.c.id)
        ).scalar_one()
        audit.record(
            s,
            actor=actor,
            action="export.requested",
            object_type="export",
            object_id=job_id,
            details={"kind": kind, "format": file_format, "filters": filters},
        )
    return int(job_id)


def _pending_same(
    user_id: int | None, kind: str, file_format: str, filters: dict[str, Any]
) -> int | None:
    stmt = sa.select(_j.c.id, _j.c.filters).where(
        _j.c.requested_by_id == user_id,
        _j.c.kind == kind,
        _j.c.file_format == file_format,
        _j.c.status.in_((EXPORT_QUEUED, EXPORT_RUNNING)),
    )
    for job_id, pending_filters in session().execute(stmt):
        if pending_filters == filters:
            return int(job_id)
    return None


def claim(job_id: int) -> JobView | None:
    """Mark a queued job running for this worker; None when it is not queued (another
    worker has it, or it is over)."""
    with write_transaction() as s:
        claimed = s.execute(
            sa.update(_j)
            .where(_j.c.id == job_id, _j.c.status == EXPORT_QUEUED)
            .values(status=EXPORT_RUNNING, started_at=utcnow())
        ).rowcount
    return get(job_id) if claimed == 1 else None


def finish(
    job_id: int, *, file_name: str, row_count: int, size_bytes: int, keep_for: timedelta
) -> None:
    now = utcnow()
    with write_transaction() as s:
        s.execute(
            sa.update(_j)
            .where(_j.c.id == job_id, _j.c.status == EXPORT_RUNNING)
            .values(
                status=EXPORT_DONE,
                file_name=file_name,
                row_count=row_count,
                size_bytes=size_bytes,
                finished_at=now,
                expires_at=now + keep_for,
            )
        )


def fail(job_id: int, error: str) -> None:
    with write_transaction() as s:
        s.execute(
            sa.update(_j)
            .where(_j.c.id == job_id, _j.c.status.in_((EXPORT_QUEUED, EXPORT_RUNNING)))
            .values(status=EXPORT_FAILED, error=error[:200], finished_at=utcnow())
        )


def record_download(job: JobView, *, actor: User) -> None:
    with write_transaction() as s:
        audit.record(
            s,
            actor=actor,
            action="export.downloaded",
            object_type="export",
            object_id=job.id,
            details={"kind": job.kind, "format": job.file_format, "rows": job.row_count},
        )


def expire_due(*, now: datetime | None = None) -> list[str]:
    """Mark the done jobs past ``expires_at`` expired; the file names to delete."""
    now = now or utcnow()
    due = (_j.c.status == EXPORT_DONE) & (_j.c.expires_at <= now)
    with write_transaction() as s:
        names = list(s.scalars(sa.select(_j.c.file_name).where(due).with_for_update()))
        s.execute(sa.update(_j).where(due).values(status=EXPORT_EXPIRED))
    return [n for n in names if n]


def fail_stalled(started_before: datetime) -> int:
    """Jobs still running since before ``started_before`` (their worker died): failed."""
    with write_transaction() as s:
        result = s.execute(
            sa.update(_j)
            .where(_j.c.status == EXPORT_RUNNING, _j.c.started_at < started_before)
            .values(status=EXPORT_FAILED, error="Interrupted.", finished_at=utcnow())
        )
    return int(result.rowcount)


def queued_before(created_before: datetime) -> list[int]:
    """Jobs still queued since before ``created_before`` (their task was lost)."""
    stmt = sa.select(_j.c.id).where(_j.c.status == EXPORT_QUEUED, _j.c.created_at < created_before)
    return list(session().scalars(stmt.order_by(_j.c.id)))


def kept_file_names() -> set[str]:
    """The files the done jobs still point at (everything else in the directory can go)."""
    stmt = sa.select(_j.c.file_name).where(_j.c.status == EXPORT_DONE)
    return {n for n in session().scalars(stmt) if n}
