"""The audit-log page: events with actor and client address, filters, htmx, pages by cursor."""

from __future__ import annotations

import re

import pytest

from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from vaulta.models import User
from vaulta.services import audit, ledger

URL = "/admin/audit"


def test_a_deposit_shows_with_actor_and_client_address(
    auditor_client: WebClient, teller: User, book: Book
) -> None:
    token = audit.client_address.set("203.0.113.9")
    try:
        tx = ledger.deposit(book.a, 4_200, actor=teller, description="Counter deposit")
    finally:
        audit.client_address.reset(token)
    response = auditor_client.get(f"{URL}?object_type=transaction&object_id={tx.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "transaction.deposit" in html
    assert teller.email in html
    assert "203.0.113.9" in html
    assert "amount_minor: 4200" in html
    assert "description: Counter deposit" in html
    assert f'href="/admin/transactions/{tx.id}"' in html


def test_a_reversal_request_through_the_page_records_the_client_address(
    client: WebClient, teller: User, auditor: User, book: Book
) -> None:
    client.sign_in(teller)
    client.post_form(
        f"/admin/transactions/{book.transfer.id}/reverse",
        {"reason": "Wrong payee"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    client.sign_in(auditor)
    html = client.get(f"{URL}?action=change_request.submit").get_data(as_text=True)
    assert "198.51.100.23" in html  # the reversal request, as the teller made it
    assert "transaction.deposit" not in html


def test_filters_by_actor_and_action(
    auditor_client: WebClient, teller: User, approver: User, book: Book
) -> None:
    ledger.deposit(book.b, 100, actor=approver, description="By the approver")
    html = auditor_client.get(f"{URL}?actor={approver.email}").get_data(as_text=True)
    assert html.count("transaction.deposit") == 1
    assert "transaction.transfer" not in html
    html = auditor_client.get(f"{URL}?actor={teller.id}&action=transaction.").get_data(as_text=True)
    assert "transaction.transfer" in html
    assert "By the approver" not in html


def test_htmx_gets_the_table_partial(auditor_client: WebClient, book: Book) -> None:
    response = auditor_client.htmx("GET", f"{URL}?action=transaction.")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert "<table" in html
    assert "HX-Request" in response.headers["Vary"]
    full = auditor_client.htmx("GET", URL, headers={"HX-History-Restore-Request": "true"})
    assert "<html" in full.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=yesterday", "Not a valid date value."),
        ("date_from=2026-03-02&date_to=2026-03-01", "The end date is before the start date."),
    ],
)
def test_bad_filters_show_their_error_with_422(
    auditor_client: WebClient, book: Book, query: str, message: str
) -> None:
    response = auditor_client.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    partial = auditor_client.htmx("GET", f"{URL}?{query}")
    assert partial.status_code == 422
    assert message in partial.get_data(as_text=True)


def test_next_page_by_cursor(auditor_client: WebClient, teller: User, book: Book) -> None:
    for n in range(26):
        ledger.deposit(book.b, 100 + n, actor=teller, description=f"Batch {n}")
    html = auditor_client.get(f"{URL}?action=transaction.deposit").get_data(as_text=True)
    match = re.search(r'href="(/admin/audit\?[^"]*before=\d+[^"]*)"', html)
    assert match is not None
    next_url = match.group(1).replace("&amp;", "&")
    assert "action=transaction.deposit" in next_url
    rest = auditor_client.get(next_url).get_data(as_text=True)
    # 26 batch deposits + the book's deposit: 27 events, 25 on the first page.
    assert rest.count("<td>transaction.deposit</td>") == 2
    assert 'rel="next"' not in rest
