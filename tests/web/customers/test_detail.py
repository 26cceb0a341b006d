"""The customer page: details, logins, accounts, status actions and opening accounts (each a
change request: nothing changes until another person approves)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask, url_for

from tests import factories
from tests.change_steps import approve, approve_newest, request_id_in
from tests.helpers import count_rows
from tests.webclient import WebClient, web_client
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, Customer, User
from vaulta.services.banking import customer_queries, customers


def page(customer: Customer, action: str = "") -> str:
    return f"/admin/customers/{customer.id}" + (f"/{action}" if action else "")


def test_detail_shows_details_accounts_and_logins(teller_client: WebClient) -> None:
    login = factories.make_customer_login("holder@example.test")
    customer = factories.customer_of(login)
    account = factories.make_account(customer, "EUR", 12_345)
    html = teller_client.get(page(customer)).get_data(as_text=True)
    assert customer.customer_number in html
    assert account.number in html
    assert "123.45 EUR" in html
    assert "holder@example.test" in html
    assert "Open account" in html
    assert 'name="currency"' in html


def test_account_numbers_link_to_the_account_page_when_it_exists(
    app: Flask, teller: User, customer: Customer
) -> None:
    if "accounts.admin_detail" not in app.view_functions:
        app.add_url_rule(
            "/test-only/accounts/<int:account_id>",
            endpoint="accounts.admin_detail",
            view_func=lambda account_id: "",
        )
    account = factories.make_account(customer, "USD")
    client = web_client(app)
    client.sign_in(teller)
    html = client.get(page(customer)).get_data(as_text=True)
    with app.test_request_context():
        href = url_for("accounts.admin_detail", account_id=account.id)
    assert f'href="{href}">{account.number}</a>' in html


def test_open_account_without_js_asks_and_the_account_opens_once_approved(
    teller_client: WebClient, customer: Customer, teller: User, approver: User
) -> None:
    response = teller_client.post_form(page(customer, "accounts"), {"currency": "JPY"})
    assert response.status_code == 302
    assert response.location == page(customer)
    request_id = request_id_in(teller_client.get(response.location).get_data(as_text=True))
    assert count_rows(Account) == 0  # nothing until approved
    approve(request_id, approver)
    account = db.session.scalar(sa.select(Account).where(Account.customer_id == customer.id))
    assert account is not None
    assert account.currency == "JPY"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.open"))
    assert event is not None
    assert event.actor_id == teller.id  # the maker
    assert event.details["change_request_id"] == request_id
    assert event.details["approved_by_id"] == approver.id


def test_open_account_with_htmx_swaps_the_accounts_partial(
    teller_client: WebClient, customer: Customer
) -> None:
    response = teller_client.htmx("POST", page(customer, "accounts"), data={"currency": "GBP"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="customer-accounts"' in html
    assert "HX-Request" in response.headers["Vary"]
    request_id_in(html)
    assert "No accounts yet." in html
    assert count_rows(Account) == 0


def test_a_second_request_to_open_the_same_account_is_refused(
    teller_client: WebClient, customer: Customer
) -> None:
    teller_client.post_form(page(customer, "accounts"), {"currency": "EUR"})
    again = teller_client.htmx("POST", page(customer, "accounts"), data={"currency": "EUR"})
    assert again.status_code == 409
    assert "already pending" in again.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_open_account_in_an_unknown_currency_is_422(
    teller_client: WebClient, customer: Customer, htmx: bool
) -> None:
    url = page(customer, "accounts")
    if htmx:
        response = teller_client.htmx("POST", url, data={"currency": "XXX"})
    else:
        response = teller_client.post_form(url, {"currency": "XXX"})
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert count_rows(Account) == 0


def test_open_account_for_a_suspended_customer_is_refused_with_a_message(
    teller_client: WebClient, customer: Customer, teller: User
) -> None:
    customers.suspend_customer(customer.id, actor=teller)
    response = teller_client.htmx("POST", page(customer, "accounts"), data={"currency": "EUR"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "active customers" in html
    assert "<html" not in html


def test_suspend_and_reactivate_without_js(
    teller_client: WebClient, customer: Customer, approver: User
) -> None:
    response = teller_client.post_form(page(customer, "suspend"))
    assert response.status_code == 302
    assert response.location == page(customer)
    request_id_in(teller_client.get(response.location).get_data(as_text=True))
    assert customer_queries.get_customer(customer.id).status == "active"
    approve_newest(approver)
    html = teller_client.get(page(customer)).get_data(as_text=True)
    assert "Reactivate" in html
    assert "Accounts can be opened for active customers only." in html
    assert customer_queries.get_customer(customer.id).status == "suspended"
    teller_client.post_form(page(customer, "reactivate"))
    assert customer_queries.get_customer(customer.id).status == "suspended"
    approve_newest(approver)
    assert customer_queries.get_customer(customer.id).status == "active"


def test_suspend_with_htmx_swaps_the_status_with_the_request(
    teller_client: WebClient, customer: Customer
) -> None:
    response = teller_client.htmx("POST", page(customer, "suspend"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="customer-status"' in html
    assert "Active" in html
    request_id_in(html)
    assert "HX-Request" in response.headers["Vary"]


def test_close_with_an_open_account_shows_why(teller_client: WebClient, customer: Customer) -> None:
    factories.make_account(customer, "EUR")
    plain = teller_client.post_form(page(customer, "close"))
    assert plain.status_code == 302
    html = teller_client.get(plain.location).get_data(as_text=True)
    assert "Close this customer&#39;s accounts first: 1 is still open." in html
    htmx = teller_client.htmx("POST", page(customer, "close"))
    partial = htmx.get_data(as_text=True)
    assert htmx.status_code == 409
    assert "<html" not in partial
    assert 'id="customer-status"' in partial
    assert "still open" in partial
    assert customer_queries.get_customer(customer.id).status == "active"


def test_closed_customer_offers_no_actions(
    teller_client: WebClient, customer: Customer, approver: User
) -> None:
    assert teller_client.post_form(page(customer, "close")).status_code == 302
    approve_newest(approver)
    html = teller_client.get(page(customer)).get_data(as_text=True)
    assert "Closed" in html
    assert "Edit details" not in html
    assert "Reactivate" not in html
    refused = teller_client.post_form(page(customer, "reactivate"))
    assert refused.status_code == 302
    assert "a closed customer cannot be changed" in teller_client.get(page(customer)).get_data(
        as_text=True
    )


def test_a_second_status_request_links_to_the_pending_one(
    teller_client: WebClient, customer: Customer
) -> None:
    teller_client.post_form(page(customer, "suspend"))
    first = request_id_in(teller_client.get(page(customer)).get_data(as_text=True))
    again = teller_client.htmx("POST", page(customer, "close"))
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "already pending" in html
    assert f'<a href="/admin/requests/{first}">See request #{first}</a>' in html


def test_the_page_lists_what_awaits_approval(teller_client: WebClient, customer: Customer) -> None:
    teller_client.post_form(page(customer, "suspend"))
    teller_client.post_form(page(customer, "accounts"), {"currency": "USD"})
    html = teller_client.get(page(customer)).get_data(as_text=True)
    assert html.count("Awaiting approval: <a") == 2
    assert f"Suspend customer {customer.customer_number} (Dana Doe)" in html
    assert "Open a USD account for" in html
