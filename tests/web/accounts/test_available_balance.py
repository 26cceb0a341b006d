"""The customer's account page shows the balance, the available balance and what is held."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from tests import factories
from vaulta.models import User, utcnow
from vaulta.services.ledger import holds


def test_the_account_page_shows_available_and_held(
    customer_client: FlaskClient, customer_user: User, admin: User
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    holds.place(
        account.id, 2_500, reason="Card", expires_at=utcnow() + timedelta(days=1), actor=admin
    )
    html = customer_client.get(f"/accounts/{account.number}").get_data(as_text=True)
    available = html.split('id="account-available"', 1)[1].split("</dd>", 1)[0]
    held = html.split('id="account-held"', 1)[1].split("</dd>", 1)[0]
    assert "75.00" in available
    assert "25.00" in held
