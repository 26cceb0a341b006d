"""Large exports as background jobs: the threshold decides inline or background, the job
writes the file and its row count, only the requester downloads it, and the hourly purge
expires it. The threshold is set low here; the queue runs tasks at once (tests)."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from vaulta.exports.kinds import KINDS
from vaulta.extensions import db
from vaulta.models import AuditEvent, ExportJob, Transaction, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.models.export_job import EXPORT_TRANSACTIONS
from vaulta.models.user import STAFF_AUDITOR
from vaulta.ops.queue import EXTENSION
from vaulta.services import ledger
from vaulta.services.exports import export_jobs
from vaulta.spreadsheets import XLSX_MIMETYPE

EXPORT = "/admin/transactions/export"


@pytest.fixture(autouse=True)
def exports_dir(app: Flask, tmp_path: Path) -> Path:
    directory = tmp_path / "exports"
    app.config["EXPORT_DIR"] = str(directory)
    app.config["EXPORT_INLINE_MAX_ROWS"] = 2
    return directory


@pytest.fixture
def many(book: Book, teller: User) -> int:
    """Five EUR transactions, one with a description a spreadsheet would run."""
    ledger.deposit(book.a, 300, actor=teller, description='=HYPERLINK("x")')
    ledger.deposit(book.a, 400, actor=teller, description="Bonus")
    ledger.deposit(book.b, 500, actor=teller, description="Gift")
    count = sa.select(sa.func.count()).select_from(Transaction).where(Transaction.currency == "EUR")
    return int(db.session.scalar(count) or 0)


def _jobs() -> list[ExportJob]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(ExportJob).order_by(ExportJob.id)))


def _actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _ask(client: WebClient, file_format: str, query: str = "?currency=EUR") -> int:
    """Ask for an export that goes to the background; the job's id."""
    response = client.get(f"{EXPORT}.{file_format}{query}")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    job_id = int(response.location.rsplit("/", 1)[1])
    assert response.location == f"/admin/exports/{job_id}"
    return job_id


def test_at_most_the_threshold_streams_as_before(
    app: Flask, auditor_client: WebClient, many: int
) -> None:
    app.config["EXPORT_INLINE_MAX_ROWS"] = many
    response = auditor_client.get(f"{EXPORT}.csv?currency=EUR")
    body = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert len(list(csv.reader(io.StringIO(body)))) == many + 1
    assert _jobs() == []


def test_above_the_threshold_a_job_writes_the_csv(
    app: Flask, auditor_client: WebClient, auditor: User, many: int, exports_dir: Path
) -> None:
    app.config["EXPORT_INLINE_MAX_ROWS"] = many + 100
    inline = auditor_client.get(f"{EXPORT}.csv?currency=EUR")
    expected_rows = list(csv.reader(io.StringIO(inline.get_data(as_text=True))))
    inline.close()
    app.config["EXPORT_INLINE_MAX_ROWS"] = many - 1

    job_id = _ask(auditor_client, "csv")
    [job] = _jobs()
    assert (job.id, job.kind, job.file_format, job.status) == (
        job_id,
        "transactions",
        "csv",
        "done",
    )
    assert job.requested_by_id == auditor.id
    assert job.filters["currency"] == "EUR"
    assert job.row_count == many
    assert job.expires_at is not None
    assert job.finished_at is not None
    assert (exports_dir / str(job.file_name)).is_file()

    page = auditor_client.get(f"/admin/exports/{job_id}").get_data(as_text=True)
    assert "being prepared" in page  # the flash
    assert f'href="/admin/exports/{job_id}/download"' in page
    assert "every 2s" not in page  # over: no more polling

    response = auditor_client.get(f"/admin/exports/{job_id}/download")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    response.close()
    assert [r[0] for r in rows] == [r[0] for r in expected_rows]  # the same rows as inline
    assert rows[0] == expected_rows[0]
    assert '\'=HYPERLINK("x")' in [r[7] for r in rows]  # neutralised as in the CSV

    [asked] = _actions("export.requested")
    assert (asked.actor_id, asked.object_id) == (auditor.id, str(job_id))
    assert asked.details["format"] == "csv"
    [fetched] = _actions("export.downloaded")
    assert (fetched.actor_id, fetched.object_id) == (auditor.id, str(job_id))


def test_above_the_threshold_a_job_writes_the_xlsx(auditor_client: WebClient, many: int) -> None:
    job_id = _ask(auditor_client, "xlsx")
    response = auditor_client.get(f"/admin/exports/{job_id}/download")
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIMETYPE
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    response.close()
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:2] == ["id", "created_at (UTC)"]
    assert len(rows) == many + 1
    assert isinstance(rows[1][5], int | float)  # amounts are numbers
    hostile = [r for r in rows if r[7] and "HYPERLINK" in r[7]]
    assert hostile[0][7].startswith("'=")
    assert _jobs()[0].row_count == many


def test_the_audit_log_export_goes_to_the_background_too(
    app: Flask, auditor_client: WebClient, many: int
) -> None:
    events = int(db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) or 0)
    response = auditor_client.get("/admin/audit/events.csv")
    assert response.status_code == 302
    [job] = _jobs()
    events += 1  # the request's own event is committed before the job reads the log
    assert (job.kind, job.status, job.row_count) == ("audit_log", "done", events)
    download = auditor_client.get(f"/admin/exports/{job.id}/download")
    lines = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    download.close()
    assert lines[0][:3] == ["id", "created_at (UTC)", "actor"]
    assert len(lines) == events + 1
    assert lines[1][3] == "export.requested"  # newest first


def test_only_the_requester_may_fetch_it(
    client: WebClient, auditor: User, teller: User, customer_user: User, many: int
) -> None:
    other_auditor = factories.make_staff("auditor2@example.test", STAFF_AUDITOR)
    client.sign_in(auditor)
    job_id = _ask(client, "csv")
    urls = (f"/admin/exports/{job_id}", f"/admin/exports/{job_id}/download")
    for url in urls:
        response = client.get(url)
        response.close()
        assert response.status_code == 200, url
    for user in (other_auditor, teller, customer_user):
        client.sign_in(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user.email, url)
    client.delete_cookie("session")
    assert client.get(urls[1]).location.startswith("/login")
    assert len(_actions("export.downloaded")) == 1
    client.sign_in(auditor)
    assert client.get("/admin/exports/999999").status_code == 404


def test_the_status_part_polls_until_the_file_is_ready(
    app: Flask, auditor_client: WebClient, auditor: User, many: int
) -> None:
    job_id = export_jobs.request_export(
        EXPORT_TRANSACTIONS, "csv", {"currency": "EUR"}, actor=auditor
    )  # recorded, not run yet
    part = auditor_client.htmx("GET", f"/admin/exports/{job_id}").get_data(as_text=True)
    assert "<html" not in part
    assert 'hx-trigger="every 2s"' in part
    assert "being prepared" in part
    assert "/download" not in part
    assert auditor_client.get(f"/admin/exports/{job_id}/download").status_code == 404
    app.extensions[EXTENSION].run_export(job_id)
    part = auditor_client.htmx("GET", f"/admin/exports/{job_id}").get_data(as_text=True)
    assert "every 2s" not in part
    assert f"/admin/exports/{job_id}/download" in part
    app.extensions[EXTENSION].run_export(job_id)  # delivered twice: runs once
    assert _jobs()[0].status == "done"


def test_expired_files_are_purged(
    app: Flask, auditor_client: WebClient, many: int, exports_dir: Path
) -> None:
    job_id = _ask(auditor_client, "csv")
    [job] = _jobs()
    path = exports_dir / str(job.file_name)
    stray = exports_dir / "export-0-deadbeef.csv.part"  # a worker died writing it
    stray.write_text("half")
    purge = app.extensions[EXTENSION].purge_exports
    purge()  # nothing is due yet
    assert path.is_file()
    assert stray.is_file()

    later = utcnow() + timedelta(hours=app.config["EXPORT_RETENTION_HOURS"], minutes=1)
    old = (later - timedelta(hours=app.config["EXPORT_RETENTION_HOURS"] + 1)).timestamp()
    os.utime(stray, (old, old))
    with clock_set_to(later):
        purge()
    assert not path.exists()
    assert not stray.exists()
    assert _jobs()[0].status == "expired"
    assert auditor_client.get(f"/admin/exports/{job_id}/download").status_code == 404
    page = auditor_client.get(f"/admin/exports/{job_id}").get_data(as_text=True)
    assert "expired" in page


def test_a_job_that_cannot_be_written_fails_and_says_so(
    app: Flask,
    auditor_client: WebClient,
    auditor: User,
    many: int,
    exports_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(filters: object) -> object:
        raise OSError("disk full")

    kind = KINDS[EXPORT_TRANSACTIONS]
    monkeypatch.setitem(KINDS, EXPORT_TRANSACTIONS, dataclasses.replace(kind, rows=broken))
    job_id = export_jobs.request_export(
        EXPORT_TRANSACTIONS, "csv", {"currency": "EUR"}, actor=auditor
    )
    app.extensions[EXTENSION].run_export(job_id)
    [job] = _jobs()
    assert (job.status, job.file_name) == ("failed", None)
    assert "OSError" in str(job.error)
    assert list(exports_dir.iterdir()) == []  # no half file left
    page = auditor_client.get(f"/admin/exports/{job_id}").get_data(as_text=True)
    assert "The export failed" in page
    assert auditor_client.get(f"/admin/exports/{job_id}/download").status_code == 404


def test_when_the_queue_is_down_the_job_is_failed_not_left_waiting(
    app: Flask, auditor_client: WebClient, many: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(job_id: int) -> None:
        raise ConnectionError("redis is down")

    jobs = app.extensions[EXTENSION]
    monkeypatch.setitem(app.extensions, EXTENSION, dataclasses.replace(jobs, run_export=down))
    job_id = _ask(auditor_client, "csv")
    [job] = _jobs()
    assert job.status == "failed"
    page = auditor_client.get(f"/admin/exports/{job_id}").get_data(as_text=True)
    assert "task queue is unavailable" in page


def test_the_same_request_while_pending_is_the_same_job(auditor: User, many: int) -> None:
    ask = {"kind": EXPORT_TRANSACTIONS, "file_format": "csv", "actor": auditor}
    first = export_jobs.request_export(filters={"currency": "EUR"}, **ask)
    assert export_jobs.request_export(filters={"currency": "EUR"}, **ask) == first
    other = export_jobs.request_export(filters={"currency": "USD"}, **ask)
    assert other != first
    assert len(_actions("export.requested")) == 2
