"""The transactions XLSX export: the CSV's rows as real cells, read back with openpyxl."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests import factories
from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from tests.xlsx import read_xlsx
from vaulta.models import User
from vaulta.services import ledger

URL = "/admin/transactions/export.xlsx"


def test_xlsx_has_numbers_dates_and_the_csv_columns(
    auditor_client: WebClient, teller: User, book: Book
) -> None:
    reversal = ledger.reverse(book.transfer.id, actor=teller, reason="Wrong payee")
    rows, sheet = read_xlsx(auditor_client, URL)
    assert rows[0][:6] == [
        "id",
        "created_at (UTC)",
        "kind",
        "debit_account",
        "credit_account",
        "amount",
    ]
    by_id = {r[0]: r for r in rows[1:]}
    assert list(by_id) == sorted(by_id, reverse=True)  # newest first, as the CSV
    transfer = by_id[book.transfer.id]
    assert isinstance(transfer[0], int)
    assert isinstance(transfer[1], datetime)
    created = book.transfer.created_at.astimezone(UTC).replace(tzinfo=None)
    assert abs((transfer[1] - created).total_seconds()) < 0.001
    assert transfer[5] == 25.0
    assert transfer[6:8] == ["EUR", "Rent April"]
    assert by_id[reversal.id][9] == book.transfer.id
    assert transfer[10] == teller.email
    amount_cell = sheet.cell(row=2, column=6)
    assert amount_cell.data_type == "n"
    assert amount_cell.number_format == "#,##0.00"


def test_xlsx_uses_each_currencys_decimals(
    auditor_client: WebClient, teller: User, book: Book
) -> None:
    kwd = factories.make_account(factories.make_customer(), "KWD")
    jpy = factories.make_account(factories.make_customer(), "JPY")
    ledger.deposit(kwd, 1_234, actor=teller, description="Dinars")
    ledger.deposit(jpy, 1_500, actor=teller, description="Yen")
    rows, sheet = read_xlsx(auditor_client, f"{URL}?currency=KWD")
    assert Decimal(str(rows[1][5])) == Decimal("1.234")
    assert sheet.cell(row=2, column=6).number_format == "#,##0.000"
    rows, sheet = read_xlsx(auditor_client, f"{URL}?currency=JPY")
    assert rows[1][5] == 1500
    assert sheet.cell(row=2, column=6).number_format == "#,##0"


def test_xlsx_cells_cannot_run_as_formulas(
    auditor_client: WebClient, teller: User, book: Book
) -> None:
    ledger.deposit(book.a, 100, actor=teller, description='=HYPERLINK("x")')
    rows, sheet = read_xlsx(auditor_client, f"{URL}?text=hyperlink")
    assert rows[1][7] == '\'=HYPERLINK("x")'
    assert sheet.cell(row=2, column=8).data_type == "s"  # a string, not a formula


def test_the_search_page_links_both_exports(auditor_client: WebClient, book: Book) -> None:
    html = auditor_client.get("/admin/transactions/?kind=transfer").get_data(as_text=True)
    assert 'href="/admin/transactions/export.csv?kind=transfer"' in html
    assert 'href="/admin/transactions/export.xlsx?kind=transfer"' in html


def test_xlsx_with_bad_filters_shows_the_form(auditor_client: WebClient, book: Book) -> None:
    response = auditor_client.get(f"{URL}?min_amount=5")
    assert response.status_code == 422
    assert "Choose a currency to search by amount." in response.get_data(as_text=True)
