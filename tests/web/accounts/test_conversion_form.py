"""The conversion form on a customer's account page: a live quote (htmx partial), confirmed
within its validity; shown only to customers with accounts in two currencies."""

from __future__ import annotations

import re

from flask import Flask

from tests import factories
from tests.helpers import balance
from tests.services.fx.support import load_rates, two_accounts
from tests.webclient import WebClient
from vaulta.models import User
from vaulta.models.base import clock_set_to
from vaulta.services.ledger import statements
from vaulta.services.ledger.fx import quotes

HTMX = {"HX-Request": "true"}


def _quote_id(html: str) -> str:
    found = re.search(r'name="quote_id" type="hidden" value="(fxq_[^"]+)"', html)
    assert found, html
    return found.group(1)


def test_the_form_quotes_and_converts(
    app: Flask, customer_client: WebClient, customer_user: User
) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    page = customer_client.get(f"/accounts/{eur.number}").get_data(as_text=True)
    assert 'id="conversion"' in page
    assert f'value="{usd.number}"' in page
    assert "<script" not in page.split('id="conversion"')[1].split("</section>")[0]
    quoted = customer_client.post_form(
        f"/accounts/{eur.number}/conversion/quote",
        {"to_account": usd.number, "amount": "100.00"},
        headers=HTMX,
    )
    assert quoted.status_code == 200
    html = quoted.get_data(as_text=True)
    assert "<html" not in html
    assert "100.00 EUR" in html
    assert "107.95 USD" in html
    assert "1.079575" in html
    done = customer_client.post_form(
        f"/accounts/{eur.number}/conversion", {"quote_id": _quote_id(html)}, headers=HTMX
    )
    assert done.status_code == 204
    assert done.headers["HX-Redirect"] == f"/accounts/{eur.number}"
    assert balance(usd, fresh=True) == 10_795
    after = customer_client.get(f"/accounts/{eur.number}").get_data(as_text=True)
    assert "Converted 100.00 EUR into 107.95 USD." in after
    # Each account's statement shows its own leg, in its own currency, with its balance.
    rows = statements.statement_page(usd, before_id=None, limit=10).rows
    assert [(r.kind, r.amount_minor, r.currency, r.balance_minor) for r in rows] == [
        ("conversion", 10_795, "USD", 10_795)
    ]
    rows = statements.statement_page(eur, before_id=None, limit=10).rows
    assert (rows[0].amount_minor, rows[0].currency, rows[0].balance_minor) == (
        -10_000,
        "EUR",
        90_000,
    )


def test_refusals_are_shown_in_place(
    app: Flask, customer_client: WebClient, customer_user: User, other_customer_user: User
) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    bad = customer_client.post_form(
        f"/accounts/{eur.number}/conversion/quote",
        {"to_account": usd.number, "amount": "12,50"},
        headers=HTMX,
    )
    assert bad.status_code == 422
    assert "Write amounts like" in bad.get_data(as_text=True)
    poor = customer_client.post_form(
        f"/accounts/{eur.number}/conversion/quote",
        {"to_account": usd.number, "amount": "5000.00"},
        headers=HTMX,
    )
    assert poor.status_code == 409
    assert "Insufficient funds" in poor.get_data(as_text=True)
    quote = quotes.request_quote(
        customer_user, from_account_id=eur.id, to_account_id=usd.id, amount_minor=1_000
    )
    with clock_set_to(quote.expires_at):
        late = customer_client.post_form(
            f"/accounts/{eur.number}/conversion", {"quote_id": quote.id}, headers=HTMX
        )
    assert late.status_code == 409
    assert "expired" in late.get_data(as_text=True)
    other_eur, _ = two_accounts(other_customer_user)
    theirs = customer_client.post_form(
        f"/accounts/{other_eur.number}/conversion/quote",
        {"to_account": usd.number, "amount": "1.00"},
    )
    assert theirs.status_code == 404
    assert balance(usd, fresh=True) == 0


def test_no_form_with_one_currency(
    app: Flask, customer_client: WebClient, customer_user: User
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR", 1_000)
    factories.make_account(factories.customer_of(customer_user), "EUR")
    page = customer_client.get(f"/accounts/{account.number}").get_data(as_text=True)
    assert 'id="conversion"' not in page
