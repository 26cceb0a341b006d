"""Exporting the audit chain: JSON Lines + manifest from the CLI and the audit-log page,
checked offline; a tampered export or a broken chain is refused; the export is audited."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import AuditEvent, User
from vaulta.models.base import clock_set_to
from vaulta.services import audit
from vaulta.services.audit import export
from vaulta.services.audit.chain import GENESIS
from vaulta.services.audit.verification import verify_chain
from vaulta.services.unit_of_work import write_transaction

DAYS = [datetime(2026, 11, d, 12, tzinfo=UTC) for d in (1, 2, 3, 4)]


@pytest.fixture
def dated_log(app: Flask) -> list[int]:
    """Two events on each of four days, one with non-ASCII details (after the actor's
    creation, itself audited, the day before)."""
    with clock_set_to(DAYS[0] - timedelta(days=1)):
        admin = factories.make_admin()
    for day in DAYS:
        with clock_set_to(day), write_transaction() as s:
            audit.record(s, actor=admin, action="test.a", object_type="t", details={"n": "Zoë"})
            audit.record(s, actor=None, action="test.b", object_type="t", object_id=day.day)
    dated = sa.select(AuditEvent.id).where(AuditEvent.action.like("test.%"))
    return list(db.session.scalars(dated.order_by(AuditEvent.id)))


def _export(period: export.Period) -> tuple[bytes, dict]:
    out = io.BytesIO()
    manifest = export.export_chain(period, out)
    return out.getvalue(), manifest


def test_a_period_exports_its_run_of_the_chain(dated_log: list[int]) -> None:
    data, manifest = _export(export.Period(date(2026, 11, 2), date(2026, 11, 3)))
    lines = data.splitlines(keepends=True)
    nov_2_and_3 = [i for i in dated_log if i >= dated_log[0]][-6:-2]
    assert [json.loads(line)["id"] for line in lines] == nov_2_and_3
    assert manifest["events"] == 4
    assert (manifest["first_id"], manifest["last_id"]) == (nov_2_and_3[0], nov_2_and_3[-1])
    before = db.session.get(AuditEvent, nov_2_and_3[0] - 1)
    assert before is not None
    assert manifest["previous_hash"] == before.chain_hash
    assert manifest["chain_head"]["event_id"] == verify_chain().head_id
    assert export.verify_export(lines, manifest) is None


def test_an_export_from_the_start_begins_at_genesis(dated_log: list[int]) -> None:
    data, manifest = _export(export.Period(date(2026, 1, 1), date(2026, 11, 30)))
    assert manifest["previous_hash"] == GENESIS
    assert manifest["events"] == len(dated_log) + 1  # and the actor's creation
    assert export.verify_export(data.splitlines(keepends=True), manifest) is None


def test_an_empty_period_exports_nothing(dated_log: list[int]) -> None:
    data, manifest = _export(export.Period(date(2025, 1, 1), date(2025, 1, 31)))
    assert data == b""
    assert (manifest["events"], manifest["first_id"]) == (0, None)


def test_a_tampered_export_is_refused(dated_log: list[int]) -> None:
    data, manifest = _export(export.Period(date(2026, 11, 1), date(2026, 11, 4)))
    lines = data.splitlines(keepends=True)
    edited = lines[:]
    edited[3] = edited[3].replace(b"test.b", b"test.c")
    assert "line 4" in (export.verify_export(edited, manifest) or "")
    assert "line 3" in (export.verify_export(lines[:2] + lines[3:], manifest) or "")
    assert "ends elsewhere" in (export.verify_export(lines[:-1], manifest) or "")


def test_a_broken_chain_is_not_exported(dated_log: list[int]) -> None:
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.id == dated_log[2]).values(action="test.x")
    )
    db.session.commit()
    with pytest.raises(export.Conflict, match=f"broken at event #{dated_log[2]}"):
        _export(export.Period(date(2026, 11, 1), date(2026, 11, 4)))


def test_the_cli_exports_checks_and_audits(
    dated_log: list[int], app: Flask, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    path = tmp_path / "audit.jsonl"
    result = runner.invoke(
        args=["vaulta", "export-audit", "--from", "2026-11-01", "--to", "2026-11-04", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert f"Exported {len(dated_log)} event(s)" in result.output
    manifest = json.loads((tmp_path / "audit.jsonl.manifest.json").read_text())
    assert manifest["last_id"] == dated_log[-1]
    checked = runner.invoke(args=["vaulta", "verify-audit-export", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "Export OK" in checked.output
    exported = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "audit.export")
    ).one()
    assert exported.details["last_id"] == dated_log[-1]
    assert exported.details["via"] == "cli"
    path.write_bytes(path.read_bytes().replace(b"Zo\xc3\xab", b"Zoe", 1))
    tampered = runner.invoke(args=["vaulta", "verify-audit-export", str(path)])
    assert tampered.exit_code == 1
    assert "FAIL line 1" in tampered.output
    backwards = runner.invoke(
        args=["vaulta", "export-audit", "--from", "2026-11-04", "--to", "2026-11-01", str(path)]
    )
    assert backwards.exit_code == 1
    assert "end date is before the start date" in backwards.output


def test_the_audit_page_downloads_the_same_export(
    dated_log: list[int], auditor_client: WebClient, auditor: User
) -> None:
    page = auditor_client.get("/admin/audit").get_data(as_text=True)
    assert 'action="/admin/audit/export.zip"' in page
    response = auditor_client.get(
        "/admin/audit/export.zip?export-date_from=2026-11-01&export-date_to=2026-11-04"
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    data = response.data
    response.close()  # closes the temporary file (a WSGI server does it once sent)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = sorted(zf.namelist())
        assert names == [
            "audit-20261101-20261104.jsonl",
            "audit-20261101-20261104.jsonl.manifest.json",
        ]
        lines = zf.read(names[0]).splitlines(keepends=True)
        manifest = json.loads(zf.read(names[1]))
    assert manifest["events"] == len(lines) == len(dated_log)
    assert export.verify_export(lines, manifest) is None
    exported = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "audit.export")
    ).one()
    assert (exported.actor_id, exported.details["via"]) == (auditor.id, "web")


def test_the_download_refuses_a_bad_date(auditor_client: WebClient) -> None:
    response = auditor_client.get("/admin/audit/export.zip?export-date_from=2026-13-01")
    assert response.status_code == 422
    backwards = auditor_client.get(
        "/admin/audit/export.zip?export-date_from=2026-11-04&export-date_to=2026-11-01"
    )
    assert backwards.status_code == 422


def test_customers_cannot_download_the_export(customer_client: WebClient) -> None:
    response = customer_client.get(
        "/admin/audit/export.zip?export-date_from=2026-11-01&export-date_to=2026-11-04"
    )
    assert response.status_code == 403
