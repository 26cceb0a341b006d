"""The transactions CSV export: streamed, with a header row, the filters and plain amounts."""

from __future__ import annotations

import csv
import io

from tests import factories
from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from vaulta.models import User
from vaulta.services import ledger

URL = "/admin/transactions/export.csv"
HEADER = [
    "id",
    "created_at",
    "kind",
    "debit_account",
    "credit_account",
    "amount",
    "currency",
    "description",
    "reference",
    "reverses_id",
    "created_by",
]


def read_csv(client: WebClient, url: str) -> list[list[str]]:
    response = client.get(url)
    try:
        assert response.status_code == 200
        assert response.is_streamed
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        return list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    finally:
        response.close()


def test_csv_is_streamed_with_header_and_plain_amounts(
    auditor_client: WebClient, teller: User, book: Book
) -> None:
    reversal = ledger.reverse(book.transfer.id, actor=teller, reason="Wrong payee")
    rows = read_csv(auditor_client, URL)
    assert rows[0] == HEADER
    by_id = {int(r[0]): dict(zip(HEADER, r, strict=True)) for r in rows[1:]}
    assert list(by_id) == sorted(by_id, reverse=True)  # newest first
    transfer = by_id[book.transfer.id]
    assert transfer["kind"] == "transfer"
    assert (transfer["debit_account"], transfer["credit_account"]) == (book.a.number, book.b.number)
    assert (transfer["amount"], transfer["currency"]) == ("25.00", "EUR")
    assert transfer["description"] == "Rent April"
    assert transfer["created_by"] == teller.email
    assert transfer["created_at"].startswith(str(book.transfer.created_at.year))
    assert by_id[reversal.id]["reverses_id"] == str(book.transfer.id)
    assert by_id[book.deposit.id]["amount"] == "100.00"


def test_csv_keeps_the_filters_and_other_currencies_exponents(
    auditor_client: WebClient, auditor: User, book: Book
) -> None:
    kwd = factories.make_account(factories.make_customer(), "KWD")
    jpy = factories.make_account(factories.make_customer(), "JPY")
    ledger.deposit(kwd, 1_234, actor=auditor, description="Dinars")
    ledger.deposit(jpy, 1_500, actor=auditor, description="Yen")
    assert [r[5] for r in read_csv(auditor_client, f"{URL}?currency=KWD")[1:]] == ["1.234"]
    assert [r[5] for r in read_csv(auditor_client, f"{URL}?currency=JPY")[1:]] == ["1500"]
    rows = read_csv(auditor_client, f"{URL}?account={book.b.number}")
    assert [int(r[0]) for r in rows[1:]] == [book.transfer.id]


def test_csv_cells_cannot_run_as_formulas(
    auditor_client: WebClient, auditor: User, book: Book
) -> None:
    ledger.deposit(book.a, 100, actor=auditor, description='=HYPERLINK("x")')
    rows = read_csv(auditor_client, f"{URL}?text=hyperlink")
    assert rows[1][7] == '\'=HYPERLINK("x")'


def test_csv_with_bad_filters_shows_the_form(auditor_client: WebClient, book: Book) -> None:
    response = auditor_client.get(f"{URL}?min_amount=5")
    assert response.status_code == 422
    assert "Choose a currency to search by amount." in response.get_data(as_text=True)
