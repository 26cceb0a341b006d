"""The teller's deposit and withdrawal forms take an optional value date: shown for
confirmation, carried into the change request, refused outside the backdating window."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.helpers import count_rows
from tests.web.accounts.test_admin_account import confirmation_of, money_form
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, ChangeRequest, User, utcnow
from vaulta.services.changes import change_requests


def test_a_backdated_deposit_is_confirmed_and_requested_with_its_value_date(
    teller_client: WebClient, owned: Account
) -> None:
    day = (utcnow().date() - timedelta(days=2)).isoformat()
    data = money_form(teller_client, owned, "deposit", value_date=day)
    step = teller_client.post_form(f"/admin/accounts/{owned.id}/deposit", data)
    html = step.get_data(as_text=True)
    assert step.status_code == 200, html
    assert f'id="deposit-confirm-value-date">{day}</dd>' in html
    teller_client.post_form(f"/admin/accounts/{owned.id}/deposit", confirmation_of(html, "deposit"))
    request = db.session.scalar(sa.select(ChangeRequest).order_by(ChangeRequest.id.desc()))
    assert request is not None
    assert request.change["params"]["value_date"] == day
    assert request.change["after"]["value_date"] == day


def test_the_form_without_a_value_date_requests_none(
    teller_client: WebClient, owned: Account
) -> None:
    data = money_form(teller_client, owned, "withdraw")
    html = teller_client.post_form(f"/admin/accounts/{owned.id}/withdraw", data)
    teller_client.post_form(
        f"/admin/accounts/{owned.id}/withdraw",
        confirmation_of(html.get_data(as_text=True), "withdraw"),
    )
    request = db.session.scalar(sa.select(ChangeRequest).order_by(ChangeRequest.id.desc()))
    assert request is not None
    assert "value_date" not in request.change["params"]


def test_a_value_date_outside_the_window_is_422_on_the_form(
    teller_client: WebClient, owned: Account
) -> None:
    for days, words in ((1, "in the future"), (-6, "more than 5 days back")):
        day = (utcnow().date() + timedelta(days=days)).isoformat()
        data = money_form(teller_client, owned, "deposit", value_date=day)
        response = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/deposit", data=data)
        assert response.status_code == 422
        assert words in response.get_data(as_text=True)
    data = money_form(teller_client, owned, "deposit", value_date="someday")
    response = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/deposit", data=data)
    assert response.status_code == 422
    assert count_rows(ChangeRequest) == 0


def test_the_inbox_diff_shows_the_value_date(
    client: WebClient, teller: User, approver: User, owned: Account
) -> None:
    day = (utcnow().date() - timedelta(days=1)).isoformat()
    made = change_requests.submit(
        "ledger.deposit",
        {"account_id": owned.id, "amount_minor": 1_00, "description": "In", "value_date": day},
        actor=teller,
    )
    client.sign_in(approver)
    html = client.get(f"/admin/requests/{made.id}").get_data(as_text=True)
    assert '<th scope="row">value date</th>' in html
    assert f"<ins>{day}</ins>" in html
    assert f"value date {day}" in html  # the summary
