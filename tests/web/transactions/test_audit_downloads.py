"""The audit log's CSV and XLSX downloads: the filtered events, newest first."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from tests.xlsx import read_xlsx
from vaulta.models import User
from vaulta.services import ledger

HEADER = [
    "id",
    "created_at (UTC)",
    "actor",
    "action",
    "object_type",
    "object_id",
    "details",
    "client_address",
]


def test_the_filtered_log_downloads_as_csv_and_xlsx(
    auditor_client: WebClient, teller: User, book: Book
) -> None:
    tx = ledger.deposit(book.a, 700, actor=teller, description="=SUM(A1)")
    query = f"?object_type=transaction&object_id={tx.id}"
    html = auditor_client.get(f"/admin/audit{query}").get_data(as_text=True)
    assert 'href="/admin/audit/events.xlsx?object_type=transaction&amp;object_id=' in html
    response = auditor_client.get(f"/admin/audit/events.csv{query}")
    body = response.get_data(as_text=True)
    response.close()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == HEADER
    assert [(r[2], r[3], r[5]) for r in rows[1:]] == [
        (teller.email, "transaction.deposit", str(tx.id))
    ]
    assert json.loads(rows[1][6])["description"] == "=SUM(A1)"  # inside JSON: not a formula
    cells, sheet = read_xlsx(auditor_client, f"/admin/audit/events.xlsx{query}")
    assert cells[0] == HEADER
    assert len(cells) == 2
    assert cells[1][0] == int(rows[1][0])
    assert isinstance(cells[1][1], datetime)
    assert cells[1][2:5] == [teller.email, "transaction.deposit", "transaction"]
    assert sheet.cell(row=2, column=7).data_type == "s"


def test_bad_filters_are_refused(auditor_client: WebClient) -> None:
    response = auditor_client.get(
        "/admin/audit/events.xlsx?date_from=2026-12-02&date_to=2026-12-01"
    )
    response.close()
    assert response.status_code == 422


def test_customers_cannot_download_the_log(customer_client: WebClient) -> None:
    response = customer_client.get("/admin/audit/events.csv")
    response.close()
    assert response.status_code == 403
