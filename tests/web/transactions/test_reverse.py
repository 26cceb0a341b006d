"""The transaction page and its reversal: asked for as a change request, posted once when an
approver approves it, conflicts shown clearly, CSRF required."""

from __future__ import annotations

import sqlalchemy as sa

from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import ChangeRequest, Transaction, User
from vaulta.services import ledger
from vaulta.services.changes import change_requests


def requested() -> ChangeRequest:
    return db.session.scalars(sa.select(ChangeRequest)).one()


def reversals_of(tx: Transaction) -> list[Transaction]:
    return list(db.session.scalars(sa.select(Transaction).where(Transaction.reverses_id == tx.id)))


def test_detail_shows_accounts_poster_and_reverse_form(
    teller_client: WebClient, teller: User, book: Book
) -> None:
    response = teller_client.get(f"/admin/transactions/{book.transfer.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Transaction #{book.transfer.id}" in html
    assert book.a.number in html
    assert book.b.number in html
    assert "Bo Brown" in html
    assert teller.email in html
    assert "25.00 EUR" in html
    assert f'action="/admin/transactions/{book.transfer.id}/reverse"' in html
    assert 'name="csrf_token"' in html


def test_unknown_transaction_is_404(teller_client: WebClient, book: Book) -> None:
    assert teller_client.get("/admin/transactions/999999").status_code == 404
    response = teller_client.post_form("/admin/transactions/999999/reverse", {"reason": "x"})
    assert response.status_code == 404


def test_reversal_is_requested_approved_once_and_a_second_attempt_is_a_clear_conflict(
    teller_client: WebClient, approver: User, book: Book
) -> None:
    url = f"/admin/transactions/{book.transfer.id}/reverse"
    response = teller_client.post_form(url, {"reason": "Wrong payee"})
    assert response.status_code == 302
    made = requested()
    assert response.location == f"/admin/requests/{made.id}"
    assert made.action == "ledger.reversal"
    assert reversals_of(book.transfer) == []  # nothing posted on the maker's word
    html = teller_client.get(response.location).get_data(as_text=True)
    assert f">Request #{made.id}</a> for 25.00 EUR awaits approval." in html
    # Asking again while it is pending leads to the first request.
    again = teller_client.post_form(url, {"reason": "Again"})
    assert again.status_code == 302
    assert again.location == f"/admin/requests/{made.id}"
    assert "already pending" in teller_client.get(again.location).get_data(as_text=True)
    change_requests.approve(made.id, actor=approver)
    (reversal,) = reversals_of(book.transfer)
    assert reversal.description == f"Reversal of #{book.transfer.id}: Wrong payee"
    html = teller_client.get(f"/admin/transactions/{book.transfer.id}").get_data(as_text=True)
    assert f">transaction #{reversal.id}</a>" in html  # "Reversed by transaction #N"
    assert f'href="/admin/transactions/{reversal.id}"' in html
    assert 'action="' + url not in html  # no second reverse form
    again = teller_client.post_form(url, {"reason": "Again"})
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "has already been reversed" in html
    assert "Traceback" not in html
    partial = teller_client.htmx("POST", url, data={"reason": "Again"})
    assert partial.status_code == 409
    html = partial.get_data(as_text=True)
    assert "<html" not in html
    assert "already been reversed" in html
    assert len(reversals_of(book.transfer)) == 1


def test_the_reversal_page_links_back(teller_client: WebClient, teller: User, book: Book) -> None:
    reversal = ledger.reverse(book.transfer.id, actor=teller, reason="Typo")
    html = teller_client.get(f"/admin/transactions/{reversal.id}").get_data(as_text=True)
    assert f'href="/admin/transactions/{book.transfer.id}"' in html
    assert "cannot itself be reversed" in html
    response = teller_client.post_form(
        f"/admin/transactions/{reversal.id}/reverse", {"reason": "x"}
    )
    assert response.status_code == 409
    assert "cannot itself be reversed" in response.get_data(as_text=True)


def test_htmx_reversal_shows_the_request_in_place(teller_client: WebClient, book: Book) -> None:
    url = f"/admin/transactions/{book.transfer.id}/reverse"
    response = teller_client.htmx("POST", url, data={"reason": "Duplicate"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    made = requested()
    assert html.lstrip().startswith('<section id="reverse">')
    assert f'<a href="/admin/requests/{made.id}">Request #{made.id}</a> for 25.00 EUR' in html
    assert 'name="reason"' not in html
    assert reversals_of(book.transfer) == []


def test_reason_is_required(teller_client: WebClient, book: Book) -> None:
    url = f"/admin/transactions/{book.transfer.id}/reverse"
    response = teller_client.post_form(url, {"reason": "  "})
    assert response.status_code == 422
    assert "Give a reason for the reversal." in response.get_data(as_text=True)
    partial = teller_client.htmx("POST", url, data={"reason": ""})
    assert partial.status_code == 422
    html = partial.get_data(as_text=True)
    assert 'id="reverse"' in html
    assert "<html" not in html
    assert "Give a reason for the reversal." in html
    assert reversals_of(book.transfer) == []


def test_insufficient_funds_at_approval_fails_the_request_with_the_reason(
    teller_client: WebClient, teller: User, approver: User, book: Book
) -> None:
    url = f"/admin/transactions/{book.transfer.id}/reverse"
    assert teller_client.post_form(url, {"reason": "Too late"}).status_code == 302
    ledger.withdraw(book.b, 2_500, actor=teller, description="Spent")
    decided = change_requests.approve(requested().id, actor=approver)
    assert decided.status == "failed"
    assert "Insufficient funds" in (decided.failure_reason or "")
    assert reversals_of(book.transfer) == []


def test_reversal_without_csrf_token_is_refused(teller_client: WebClient, book: Book) -> None:
    url = f"/admin/transactions/{book.transfer.id}/reverse"
    response = teller_client.post(url, data={"reason": "No token"})
    assert response.status_code == 400
    assert reversals_of(book.transfer) == []
