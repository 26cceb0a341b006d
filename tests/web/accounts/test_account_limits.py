"""The staff pages ask for limits and blocks: the account page's overdraft form and block
buttons, the customer page's daily limit form; each makes a change request and changes
nothing until approved; bad input is a message, never a change."""

from __future__ import annotations

import sqlalchemy as sa

from tests import factories
from tests.change_steps import approve, approve_newest, request_id_in
from tests.web.accounts.conftest import status_of
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, Customer, User


def _limit(account: Account) -> int:
    db.session.rollback()
    value = db.session.scalar(
        sa.select(Account.overdraft_limit_minor).where(Account.id == account.id)
    )
    return int(value or 0)


def test_block_and_unblock_from_the_account_page(
    teller_client: WebClient, approver: User, owned: Account
) -> None:
    url = f"/admin/accounts/{owned.id}"
    page = teller_client.get(url).get_data(as_text=True)
    assert "Block money out" in page
    assert "Block money in" in page
    assert teller_client.post_form(f"{url}/debit-block", {"reason": "Fraud"}).status_code == 302
    assert status_of(owned) == "active"
    approve_newest(approver)
    assert status_of(owned) == "debit_blocked"
    page = teller_client.get(url).get_data(as_text=True)
    assert "debit blocked (no money out)" in page
    assert "Unblock" in page
    teller_client.post_form(f"{url}/unblock")
    approve_newest(approver)
    assert status_of(owned) == "active"
    teller_client.post_form(f"{url}/credit-block")
    approve_newest(approver)
    assert status_of(owned) == "credit_blocked"


def test_overdraft_limit_from_the_account_page(
    teller_client: WebClient, approver: User, second_approver: User, owned: Account
) -> None:
    url = f"/admin/accounts/{owned.id}"
    assert 'id="overdraft-form"' in teller_client.get(url).get_data(as_text=True)
    response = teller_client.post_form(f"{url}/overdraft-limit", {"overdraft-limit": "250.00"})
    assert response.status_code == 302
    request_id = request_id_in(teller_client.get(url).get_data(as_text=True))
    assert _limit(owned) == 0
    approve(request_id, approver, second_approver)
    assert _limit(owned) == 25_000
    assert "250.00 EUR" in teller_client.get(url).get_data(as_text=True)
    # Bad amounts are refused with a message; nothing is asked.
    teller_client.post_form(f"{url}/overdraft-limit", {"overdraft-limit": "-5"})
    teller_client.post_form(f"{url}/overdraft-limit", {"overdraft-limit": "1.234"})
    assert _limit(owned) == 25_000
    # 0 removes it.
    teller_client.post_form(f"{url}/overdraft-limit", {"overdraft-limit": "0"})
    approve_newest(approver, second_approver)
    assert _limit(owned) == 0


def test_daily_limit_from_the_customer_page(
    teller_client: WebClient, approver: User, owned: Account
) -> None:
    customer_id = owned.customer_id
    url = f"/admin/customers/{customer_id}"
    assert 'id="daily-limit-form"' in teller_client.get(url).get_data(as_text=True)
    teller_client.post_form(f"{url}/daily-limit", {"daily-limit": "abc"})
    response = teller_client.post_form(f"{url}/daily-limit", {"daily-limit": "100000"})
    assert response.status_code == 302
    approve_newest(approver)
    db.session.rollback()
    stored = db.session.get(Customer, customer_id)
    assert stored is not None
    assert stored.daily_outgoing_limit_minor == 100_000
    assert "100000 minor units per currency" in teller_client.get(url).get_data(as_text=True)


def test_auditors_see_but_cannot_ask(client: WebClient, auditor: User, owned: Account) -> None:
    client.sign_in(auditor)
    page = client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert 'id="overdraft-form"' not in page
    response = client.post_form(
        f"/admin/accounts/{owned.id}/overdraft-limit", {"overdraft-limit": "1.00"}
    )
    assert response.status_code == 403
    other = factories.make_customer()
    assert client.post_form(f"/admin/customers/{other.id}/daily-limit").status_code == 403
