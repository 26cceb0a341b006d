"""The inbox and "My requests" as CSV and XLSX: what the signed-in user may decide (with
the inbox's filters) or made, real number and date cells, formula-like text neutralised,
and a background job above EXPORT_INLINE_MAX_ROWS for the viewer it was asked by."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.web.inbox.conftest import deposit_request
from tests.webclient import WebClient
from tests.xlsx import read_xlsx
from vaulta.extensions import db
from vaulta.models import Account, ExportJob, User

INBOX = "/admin/inbox/export"
MINE = "/admin/inbox/mine/export"


@pytest.fixture(autouse=True)
def exports_dir(app: Flask, tmp_path: Path) -> Path:
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    return tmp_path / "exports"


@pytest.fixture
def formula_account(app: Flask) -> Account:
    """A USD account of a customer whose name a spreadsheet would run."""
    return factories.make_account(factories.make_customer('=HYPERLINK("x")'), "USD", 500)


def _csv(client: WebClient, url: str) -> list[list[str]]:
    response = client.get(url)
    body = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 200, body[:300]
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(body)))


def test_the_inbox_as_xlsx_holds_what_the_approver_may_decide(
    client: WebClient, teller: User, approver: User, owned: Account, formula_account: Account
) -> None:
    eur = deposit_request(teller, owned, 25_050)
    usd = deposit_request(teller, formula_account, 700)
    client.sign_in(approver)
    rows, sheet = read_xlsx(client, f"{INBOX}.xlsx")
    header = rows[0]
    assert header[:3] == ["id", "created_at (UTC)", "action"]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_id) == {eur.id, usd.id}  # oldest first, as the inbox
    assert [r[0] for r in rows[1:]] == [eur.id, usd.id]
    first = by_id[eur.id]
    assert isinstance(first["id"], int)
    assert first["amount"] == 250.5  # a number in major units
    assert first["currency"] == "EUR"
    assert isinstance(first["created_at (UTC)"], datetime)
    assert first["maker"] == teller.email
    assert (first["levels_approved"], first["levels_required"]) == (0, 1)
    assert by_id[usd.id]["customer"] == '\'=HYPERLINK("x")'  # text, never a formula
    amount_col = header.index("amount") + 1
    assert sheet.cell(row=2, column=amount_col).number_format.startswith("#,##0.00")

    # The inbox's filters apply.
    rows, _ = read_xlsx(client, f"{INBOX}.xlsx?currency=USD")
    assert [r[0] for r in rows[1:]] == [usd.id]


def test_the_inbox_as_csv_leaves_out_decided_and_own_requests(
    client: WebClient, teller: User, approver: User, owned: Account, formula_account: Account
) -> None:
    decided = deposit_request(teller, owned, 1_000)
    waiting = deposit_request(teller, formula_account, 2_000)
    client.sign_in(approver)
    assert client.post_form(f"/admin/requests/{decided.id}/approve").status_code == 302
    rows = _csv(client, f"{INBOX}.csv")
    assert rows[0][:3] == ["id", "created_at", "action"]
    assert [int(r[0]) for r in rows[1:]] == [waiting.id]
    line = dict(zip(rows[0], rows[1], strict=True))
    assert (line["amount"], line["currency"]) == ("20.00", "USD")
    assert line["customer"] == '\'=HYPERLINK("x")'
    # A filter error is a 4xx, never a file.
    assert client.get(f"{INBOX}.csv?min_amount=abc&currency=EUR").status_code == 422


def test_my_requests_export_lists_the_makers_own(
    client: WebClient, teller: User, approver: User, owned: Account
) -> None:
    made = deposit_request(teller, owned, 3_000)
    client.sign_in(teller)
    assert client.get(f"{INBOX}.csv").status_code == 403  # a teller decides nothing
    rows = _csv(client, f"{MINE}.csv")
    assert [int(r[0]) for r in rows[1:]] == [made.id]
    xlsx, _ = read_xlsx(client, f"{MINE}.xlsx")
    assert (xlsx[1][0], xlsx[1][3]) == (made.id, "pending")
    page = client.get("/admin/inbox/mine").get_data(as_text=True)
    assert f'href="{MINE}.xlsx"' in page

    client.sign_in(approver)  # not a maker
    assert client.get(f"{MINE}.csv").status_code == 403
    page = client.get("/admin/inbox?currency=EUR").get_data(as_text=True)
    assert f'href="{INBOX}.xlsx?currency=EUR"' in page


def test_a_large_inbox_export_becomes_a_job_for_its_viewer(
    app: Flask,
    client: WebClient,
    teller: User,
    approver: User,
    owned: Account,
    formula_account: Account,
) -> None:
    first = deposit_request(teller, owned, 1_000)
    second = deposit_request(teller, formula_account, 2_000)
    app.config["EXPORT_INLINE_MAX_ROWS"] = 1
    client.sign_in(approver)
    response = client.get(f"{INBOX}.xlsx")
    assert response.status_code == 302
    job_id = int(response.location.rsplit("/", 1)[1])
    db.session.rollback()
    job = db.session.scalars(sa.select(ExportJob).where(ExportJob.id == job_id)).one()
    assert (job.kind, job.status, job.row_count) == ("inbox", "done", 2)
    assert job.filters["viewer_id"] == approver.id
    rows, _ = read_xlsx(client, f"/admin/exports/{job_id}/download")
    assert [r[0] for r in rows[1:]] == [first.id, second.id]
    client.sign_in(teller)  # another user: not theirs
    assert client.get(f"/admin/exports/{job_id}/download").status_code in (403, 404)
