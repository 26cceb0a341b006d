"""The teller account page: facts, status actions, deposits and withdrawals (plain and htmx),
each shown for confirmation, then made a change request: the money moves only once an
approver approves it (tests/web/inbox)."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.change_steps import approve, approve_newest, request_id_in
from tests.helpers import balance, count_rows
from tests.web.accounts.conftest import idempotency_key, status_of
from tests.webclient import WebClient
from vaulta.accounts import confirmation
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, ChangeRequest, Transaction, User
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.changes import change_requests


def approve_latest(approver: User) -> ChangeRequest:
    """The newest change request, approved by ``approver`` (one level: under 10,000.00)."""
    newest = db.session.scalar(sa.select(sa.func.max(ChangeRequest.id)))
    assert newest is not None, "no change request was made"
    return change_requests.approve(newest, actor=approver)


def money_form(client: WebClient, account: Account, action: str, **fields: str) -> dict[str, str]:
    html = client.get(f"/admin/accounts/{account.id}").get_data(as_text=True)
    data = {"amount": "12.34", "description": "Cash desk"} | fields
    return {f"{action}-{k}": v for k, v in data.items()} | {
        f"{action}-idempotency_key": idempotency_key(html, action)
    }


def confirmation_of(html: str, action: str) -> dict[str, str]:
    """The Confirm button's fields of a rendered confirmation step."""
    match = re.search(rf'name="{action}-confirmation"[^>]*value="([^"]+)"', html)
    if match is None:
        match = re.search(rf'value="([^"]+)"[^>]*name="{action}-confirmation"', html)
    assert match is not None, f"no {action} confirmation in the page"
    return {f"{action}-confirmation": match.group(1), f"{action}-step": "confirm"}


def review(client: WebClient, account: Account, action: str, **fields: str) -> dict[str, str]:
    """Submit the form (plain): the confirmation step's fields, nothing posted yet."""
    response = client.post_form(
        f"/admin/accounts/{account.id}/{action}", money_form(client, account, action, **fields)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return confirmation_of(response.get_data(as_text=True), action)


def test_page_shows_the_account(teller_client: WebClient, owned: Account) -> None:
    html = teller_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert owned.number in html
    assert owned.customer is not None
    assert owned.customer.full_name in html
    assert "100.00 EUR" in html
    assert 'id="deposit-form"' in html
    assert 'id="withdraw-form"' in html
    assert "Freeze" in html
    assert "Funding" in html


@pytest.mark.parametrize(
    ("action", "amount", "expected_balance"),
    [("deposit", "12.34", 11_234), ("withdraw", "0.5", 9_950)],
)
def test_plain_post_requests_and_an_approval_moves_money(
    teller_client: WebClient,
    approver: User,
    owned: Account,
    action: str,
    amount: str,
    expected_balance: int,
) -> None:
    before = count_rows(Transaction)
    data = money_form(teller_client, owned, action, amount=amount)
    shown = teller_client.post_form(f"/admin/accounts/{owned.id}/{action}", data)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "<html" in html
    amount_shown = "12.34 EUR" if action == "deposit" else "0.50 EUR"
    assert f'id="{action}-confirm-amount">{amount_shown}</strong>' in html
    assert owned.number in html
    assert f'id="{action}-confirm-description">Cash desk</dd>' in html
    assert count_rows(Transaction) == before  # shown, not requested
    response = teller_client.post_form(
        f"/admin/accounts/{owned.id}/{action}", confirmation_of(html, action)
    )
    assert response.status_code == 302
    made = db.session.scalars(sa.select(ChangeRequest)).one()
    assert response.location == f"/admin/requests/{made.id}"
    assert made.action == ("ledger.deposit" if action == "deposit" else "ledger.withdrawal")
    assert made.status == "pending"
    assert count_rows(Transaction) == before
    assert balance(owned) == 10_000  # nothing moves on the maker's word
    html = teller_client.get(response.location).get_data(as_text=True)
    assert f">Request #{made.id}</a> for {amount_shown} awaits approval." in html
    approve_latest(approver)
    assert balance(owned) == expected_balance
    html = teller_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert "Cash desk" in html


@pytest.mark.parametrize("action", ["deposit", "withdraw"])
def test_htmx_post_swaps_the_panel_with_fresh_forms(
    teller_client: WebClient, approver: User, owned: Account, action: str
) -> None:
    data = money_form(
        teller_client, owned, action, amount="1,000.00" if action == "deposit" else "7"
    )
    shown = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/{action}", data=data)
    step = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "<html" not in step
    assert step.lstrip().startswith(f'<form id="{action}-form"')
    assert shown.headers["HX-Retarget"] == f"#{action}-form"
    assert shown.headers["HX-Reswap"] == "outerHTML"
    assert ("1,000.00 EUR" if action == "deposit" else "7.00 EUR") in step
    assert balance(owned) == 10_000
    response = teller_client.htmx(
        "POST", f"/admin/accounts/{owned.id}/{action}", data=confirmation_of(step, action)
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="account-panel">')
    made = db.session.scalars(sa.select(ChangeRequest)).one()
    shown_amount = "1,000.00 EUR" if action == "deposit" else "7.00 EUR"
    assert f'<a href="/admin/requests/{made.id}">Request #{made.id}</a> for {shown_amount}' in html
    assert "awaits approval." in html
    assert '<dd id="account-balance"><span class="money">100.00 EUR</span>' in html
    # The form is reset: empty fields and a new one-time key.
    assert idempotency_key(html, action) != data[f"{action}-idempotency_key"]
    assert 'value="Cash desk"' not in html
    approve_latest(approver)
    expected = "1,100.00 EUR" if action == "deposit" else "93.00 EUR"
    html = teller_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert f'<dd id="account-balance"><span class="money">{expected}</span>' in html
    assert "Cash desk" in html


def test_bad_amount_is_422_with_the_message_plain_and_htmx(
    teller_client: WebClient, owned: Account
) -> None:
    before = count_rows(Transaction)
    data = money_form(teller_client, owned, "deposit", amount="12.345")
    plain = teller_client.post_form(f"/admin/accounts/{owned.id}/deposit", data)
    assert plain.status_code == 422
    assert "<html" in plain.get_data(as_text=True)
    assert "EUR amounts have at most 2 decimal places." in plain.get_data(as_text=True)
    partial = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/deposit", data=data)
    html = partial.get_data(as_text=True)
    assert partial.status_code == 422
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="deposit-form"')
    assert "EUR amounts have at most 2 decimal places." in html
    assert 'value="12.345"' in html
    assert partial.headers["HX-Retarget"] == "#deposit-form"
    assert partial.headers["HX-Reswap"] == "outerHTML"
    assert "HX-Request" in partial.headers["Vary"]
    assert count_rows(Transaction) == before
    assert balance(owned) == 10_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": ""}, "Enter an amount."),
        ({"amount": "abc"}, "Write amounts like 1234.56 or 1,234.56"),
        ({"amount": "12,50"}, "commas only between groups of three digits"),
        ({"amount": "0"}, "greater than zero"),
        ({"description": ""}, "Enter a description."),
        ({"amount": "999999999999"}, "above the limit"),
    ],
)
def test_invalid_input_is_shown_on_the_form(
    teller_client: WebClient, owned: Account, fields: dict[str, str], message: str
) -> None:
    data = money_form(teller_client, owned, "deposit", **fields)
    response = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/deposit", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert balance(owned) == 10_000


def test_insufficient_funds_and_frozen_account_show_on_the_form(
    teller_client: WebClient, teller: User, owned: Account
) -> None:
    confirm = review(teller_client, owned, "withdraw", amount="100.01")
    response = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/withdraw", data=confirm)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Insufficient funds" in html
    assert response.headers["HX-Retarget"] == "#withdraw-form"
    assert 'value="100.01"' in html  # the form again, filled in, to change
    confirm = review(teller_client, owned, "deposit")
    accounts.freeze_account(owned.id, actor=teller)
    plain = teller_client.post_form(f"/admin/accounts/{owned.id}/deposit", confirm)
    assert plain.status_code == 409
    assert f"Account {owned.number} is frozen." in plain.get_data(as_text=True)
    assert balance(owned) == 10_000


def test_double_submit_makes_one_request_and_posts_once(
    teller_client: WebClient, approver: User, owned: Account
) -> None:
    before = count_rows(Transaction)
    confirm = review(teller_client, owned, "deposit", amount="5")
    first = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/deposit", data=confirm)
    second = teller_client.post_form(f"/admin/accounts/{owned.id}/deposit", confirm)
    assert (first.status_code, second.status_code) == (200, 302)
    made = db.session.scalars(sa.select(ChangeRequest)).one()  # the one-time key: one request
    assert second.location == f"/admin/requests/{made.id}"
    approve_latest(approver)
    assert count_rows(Transaction) == before + 1
    assert balance(owned) == 10_500


def test_deposit_is_audited_with_the_acting_teller(
    teller_client: WebClient, teller: User, approver: User, owned: Account
) -> None:
    confirm = review(teller_client, owned, "deposit", amount="3")
    teller_client.post_form(f"/admin/accounts/{owned.id}/deposit", confirm)
    asked = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "change_request.submit")
    ).one()
    assert asked.actor_id == teller.id
    assert asked.details["amount_minor"] == 300
    assert asked.client_address == "127.0.0.1"
    approve_latest(approver)
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "transaction.deposit")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None
    assert event.actor_id == teller.id  # the maker's deposit, posted on approval
    assert event.details["amount_minor"] == 300


def test_status_actions(
    teller_client: WebClient, teller: User, approver: User, owned: Account
) -> None:
    url = f"/admin/accounts/{owned.id}"
    response = teller_client.post_form(f"{url}/freeze", {"reason": "Lost card"})
    assert response.status_code == 302
    request_id = request_id_in(teller_client.get(url).get_data(as_text=True))
    assert status_of(owned) == "active"  # nothing until approved
    approve(request_id, approver)
    assert status_of(owned) == "frozen"
    assert "Unfreeze" in teller_client.get(url).get_data(as_text=True)
    teller_client.post_form(f"{url}/unfreeze")
    approve_newest(approver)
    assert status_of(owned) == "active"
    # Closing needs a zero balance: refused with a message when asked, then allowed.
    teller_client.post_form(f"{url}/close")
    assert "zero balance" in teller_client.get(url).get_data(as_text=True)
    ledger.withdraw(owned, 10_000, actor=teller, description="Pay out")
    teller_client.post_form(f"{url}/close")
    assert status_of(owned) == "active"
    approve_newest(approver)
    assert status_of(owned) == "closed"
    html = teller_client.get(url).get_data(as_text=True)
    assert 'id="deposit-form"' not in html
    assert "Freeze" not in html
    assert teller_client.post_form(f"{url}/unfreeze").status_code == 302
    assert status_of(owned) == "closed"
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "account.freeze")
    ).one()
    assert event.details["reason"] == "Lost card"
    assert event.actor_id == teller.id
    assert event.details["change_request_id"] == request_id


def test_closing_fails_at_the_decision_when_money_arrived_meanwhile(
    teller_client: WebClient, teller: User, approver: User, customer_user: User
) -> None:
    empty = factories.make_account(factories.customer_of(customer_user), "EUR")
    teller_client.post_form(f"/admin/accounts/{empty.id}/close")
    ledger.deposit(empty, 500, actor=teller, description="Late salary")
    request = approve_newest(approver)
    assert request.status == "failed"
    assert "zero balance" in (request.failure_reason or "")
    assert status_of(empty) == "active"


def test_system_account_page_has_no_actions(app: Flask, teller_client: WebClient) -> None:
    system = accounts.system_account("EUR")
    html = teller_client.get(f"/admin/accounts/{system.id}").get_data(as_text=True)
    assert "bank system account" in html
    assert 'id="deposit-form"' not in html
    assert "Freeze" not in html


def test_jpy_amounts_are_whole(
    teller_client: WebClient, approver: User, customer_user: User
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "JPY")
    data = money_form(teller_client, account, "deposit", amount="100.5")
    response = teller_client.post_form(f"/admin/accounts/{account.id}/deposit", data)
    assert response.status_code == 422
    assert "JPY has no minor unit" in response.get_data(as_text=True)
    confirm = review(teller_client, account, "deposit", amount="1,500")
    teller_client.post_form(f"/admin/accounts/{account.id}/deposit", confirm)
    assert balance(account) == 0
    approve_latest(approver)
    assert balance(account) == 1_500


@pytest.mark.parametrize("htmx", [False, True])
def test_change_shows_the_form_again_filled_in_and_posts_nothing(
    teller_client: WebClient, owned: Account, htmx: bool
) -> None:
    confirm = review(teller_client, owned, "withdraw", amount="1,234.5", description="Till")
    change = confirm | {"withdraw-step": "change"}
    url = f"/admin/accounts/{owned.id}/withdraw"
    if htmx:
        response = teller_client.htmx("POST", url, data=change)
        assert response.headers["HX-Retarget"] == "#withdraw-form"
    else:
        response = teller_client.post_form(url, change)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("<html" in html) is not htmx
    assert 'value="1234.50"' in html
    assert 'value="Till"' in html
    assert 'name="withdraw-amount"' in html
    assert "withdraw-confirmation" not in html
    assert balance(owned) == 10_000


def test_the_confirmation_posts_what_it_showed_whatever_else_is_sent(
    teller_client: WebClient, approver: User, owned: Account
) -> None:
    """Fields sent beside the signed confirmation are ignored: it cannot be edited into
    another amount or description."""
    confirm = review(teller_client, owned, "deposit", amount="2.00", description="Shown")
    forged = confirm | {"deposit-amount": "9,000", "deposit-description": "Other"}
    response = teller_client.post_form(f"/admin/accounts/{owned.id}/deposit", forged)
    assert response.status_code == 302
    approve_latest(approver)
    assert balance(owned) == 10_200
    html = teller_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert "Shown" in html
    assert "Other" not in html


def _tampered(token: str) -> str:
    payload, _, signature = token.rpartition(".")
    return f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


@pytest.mark.parametrize("forgery", ["tampered", "other_action", "other_account", "empty"])
def test_a_forged_or_misplaced_confirmation_posts_nothing(
    teller_client: WebClient, customer_user: User, owned: Account, forgery: str
) -> None:
    confirm = review(teller_client, owned, "deposit")
    token = confirm["deposit-confirmation"]
    account, action = owned, "deposit"
    if forgery == "tampered":
        token = _tampered(token)
    elif forgery == "other_action":
        action = "withdraw"
    elif forgery == "other_account":
        account = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    else:
        token = ""
    before = count_rows(Transaction)
    data = {f"{action}-confirmation": token, f"{action}-step": "confirm"}
    response = teller_client.post_form(f"/admin/accounts/{account.id}/{action}", data)
    assert response.status_code == 422
    assert "This confirmation has expired or is not valid." in response.get_data(as_text=True)
    assert count_rows(Transaction) == before


def test_a_confirmation_belongs_to_the_teller_who_saw_it(
    client: WebClient, teller: User, owned: Account
) -> None:
    client.sign_in(teller)
    confirm = review(client, owned, "deposit")
    client.sign_in(factories.make_staff("teller2@example.test", "teller"))
    response = client.post_form(f"/admin/accounts/{owned.id}/deposit", confirm)
    assert response.status_code == 422
    assert balance(owned) == 10_000


def test_a_confirmation_expires(
    teller_client: WebClient, owned: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    confirm = review(teller_client, owned, "deposit")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + confirmation.MAX_AGE_SECONDS + 5)
    response = teller_client.post_form(f"/admin/accounts/{owned.id}/deposit", confirm)
    assert response.status_code == 422
    assert "expired" in response.get_data(as_text=True)
    assert balance(owned) == 10_000


def test_a_text_direction_character_in_the_description_is_refused(
    teller_client: WebClient, owned: Account
) -> None:
    data = money_form(teller_client, owned, "deposit", description="Refund \u202eRCS")
    response = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/deposit", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "invisible text-direction character U+202E (RIGHT-TO-LEFT OVERRIDE)" in html
    assert "deposit-confirmation" not in html


def test_the_account_page_lists_what_awaits_approval(
    teller_client: WebClient, owned: Account
) -> None:
    teller_client.post_form(f"/admin/accounts/{owned.id}/freeze", {"reason": "Lost card"})
    html = teller_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert 'Awaiting approval: <a href="/admin/requests/' in html
    assert f"Freeze account {owned.number}" in html
