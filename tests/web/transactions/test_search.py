"""The transactions search page: filters, htmx partials, pages by cursor, query counts."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.helpers import sql_statements
from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import User
from vaulta.services import ledger

URL = "/admin/transactions/"


def detail_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/admin/transactions/(\d+)"', html)]


def test_page_lists_transactions_with_links_and_filters(
    teller_client: WebClient, book: Book
) -> None:
    response = teller_client.get(URL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html
    assert 'hx-get="/admin/transactions/"' in html
    assert 'hx-push-url="true"' in html
    assert "input changed delay:" in html
    assert detail_links(html) == [book.transfer.id, book.deposit.id]
    assert "Rent April" in html
    assert "25.00 EUR" in html
    assert book.b.number in html


def test_filters_from_the_query_string(teller_client: WebClient, book: Book) -> None:
    html = teller_client.get(f"{URL}?account={book.b.number}").get_data(as_text=True)
    assert detail_links(html) == [book.transfer.id]
    html = teller_client.get(f"{URL}?text=SALARY&kind=deposit").get_data(as_text=True)
    assert detail_links(html) == [book.deposit.id]
    html = teller_client.get(f"{URL}?currency=EUR&min_amount=25&max_amount=25.00").get_data(
        as_text=True
    )
    assert detail_links(html) == [book.transfer.id]
    html = teller_client.get(f"{URL}?date_from=2000-01-01&date_to=2000-12-31").get_data(
        as_text=True
    )
    assert detail_links(html) == []
    assert "No transactions match" in html


def test_htmx_gets_the_results_partial(teller_client: WebClient, book: Book) -> None:
    response = teller_client.htmx("GET", f"{URL}?kind=transfer")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert "<table" in html
    assert detail_links(html) == [book.transfer.id]
    assert "HX-Request" in response.headers["Vary"]
    assert "export.csv" not in html  # the teller may not export (ledger.export)


def test_the_export_links_keep_the_filters(auditor_client: WebClient, book: Book) -> None:
    html = auditor_client.htmx("GET", f"{URL}?kind=transfer").get_data(as_text=True)
    assert "export.csv?kind=transfer" in html
    assert "export.xlsx?kind=transfer" in html


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
def test_boosted_and_history_restore_get_the_full_page(
    teller_client: WebClient, book: Book, header: str
) -> None:
    response = teller_client.htmx("GET", f"{URL}?kind=transfer", headers={header: "true"})
    html = response.get_data(as_text=True)
    assert "<html" in html
    assert 'name="kind"' in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("currency=EUR&min_amount=1.234", "EUR amounts have at most 2 decimal places."),
        ("min_amount=5", "Choose a currency to search by amount."),
        ("currency=EUR&min_amount=9&max_amount=1", "The maximum is below the minimum."),
        ("date_from=2026-13-01", "Not a valid date value."),
        ("date_from=2026-03-02&date_to=2026-03-01", "The end date is before the start date."),
        ("kind=gift", "Not a valid choice."),
    ],
)
def test_bad_filters_show_their_error_with_422(
    teller_client: WebClient, book: Book, query: str, message: str
) -> None:
    full = teller_client.get(f"{URL}?{query}")
    assert full.status_code == 422
    html = full.get_data(as_text=True)
    assert message in html
    assert 'class="field-error"' in html  # in place, beside its field
    partial = teller_client.htmx("GET", f"{URL}?{query}")
    assert partial.status_code == 422
    html = partial.get_data(as_text=True)
    assert "<html" not in html
    assert message in html
    assert 'id="search-errors" hx-swap-oob="true"' in html


def test_next_page_by_cursor_keeps_the_filters(
    teller_client: WebClient, app: object, teller: User, book: Book
) -> None:
    for n in range(26):
        ledger.deposit(book.b, 100 + n, actor=teller, description=f"Batch {n}")
    html = teller_client.get(f"{URL}?text=batch").get_data(as_text=True)
    first = detail_links(html)
    assert len(first) == 25
    match = re.search(r'href="(/admin/transactions/\?[^"]*before=(\d+)[^"]*)"', html)
    assert match is not None
    next_url = match.group(1).replace("&amp;", "&")
    assert "text=batch" in next_url
    assert int(match.group(2)) == first[-1]
    rest = teller_client.htmx("GET", next_url).get_data(as_text=True)
    second = detail_links(rest)
    assert len(second) == 1
    assert second[0] < first[-1]
    assert "before=" not in rest.split("Newest")[-1]  # the last page has no next link
    assert book.deposit.id not in second  # the filter still holds


def test_queries_do_not_grow_with_the_rows_shown(
    teller_client: WebClient, teller: User, app: object
) -> None:
    accounts = [factories.make_account(factories.make_customer(), "EUR") for _ in range(5)]
    for account in accounts:
        ledger.deposit(account, 1_000, actor=teller, description="Few")
    teller_client.get(URL).close()  # warm up (first request of the client)
    db.session.commit()  # the test shares the session: start each request from the same state
    with sql_statements() as few:
        html = teller_client.get(URL).get_data(as_text=True)
    assert len(detail_links(html)) == 5
    more = [factories.make_account(factories.make_customer(), "EUR") for _ in range(20)]
    for account in more:
        ledger.deposit(account, 1_000, actor=teller, description="Many")
    db.session.commit()
    with sql_statements() as many:
        html = teller_client.get(URL).get_data(as_text=True)
    assert len(detail_links(html)) == 25
    assert len(many) == len(few)
    assert len([q for q in few if "FROM transactions" in q]) == 1
