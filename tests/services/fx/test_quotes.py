"""Quotes: priced at the rate in force less the spread, the customer's own accounts only,
valid for FX_QUOTE_SECONDS and used at most once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask

from tests import factories
from tests.services.fx.support import load_rates, two_accounts
from vaulta.extensions import db
from vaulta.models import FxQuote, User, utcnow
from vaulta.services.errors import (
    Conflict,
    Forbidden,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)
from vaulta.services.ledger.fx import quotes
from vaulta.services.unit_of_work import write_transaction


def test_a_quote_prices_at_the_rate_less_the_spread(app: Flask, customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    now = utcnow()
    quote = quotes.request_quote(
        customer_user, from_account_id=eur.id, to_account_id=usd.id, amount_minor=10_000, now=now
    )
    assert quote.id.startswith("fxq_")
    assert len(quote.id) > 20
    assert (quote.from_amount_minor, quote.from_currency) == (10_000, "EUR")
    assert (quote.to_amount_minor, quote.to_currency) == (10_795, "USD")  # 107.9575 -> 107.95
    assert quote.market_rate == Decimal("1.0850")
    assert quote.rate == Decimal("1.079575")
    assert (quote.spread_bps, quote.inverted) == (50, False)
    assert quote.expires_at == now + timedelta(seconds=30)
    assert quote.used_at is None
    stored = db.session.get(FxQuote, quote.id)
    assert stored is not None
    assert stored.to_amount_minor == 10_795


def test_the_reverse_pair_and_the_settings(app: Flask, customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    usd_rich = factories.make_account(factories.customer_of(customer_user), "USD", 50_000)
    app.config.update(FX_SPREAD_BPS=100, FX_QUOTE_SECONDS=60)
    now = utcnow()
    quote = quotes.request_quote(
        customer_user,
        from_account_id=usd_rich.id,
        to_account_id=eur.id,
        amount_minor=10_850,
        now=now,
    )
    # 108.50 USD / 1.0850 = 100.00 EUR, less 1 %: 99.00 EUR
    assert (quote.to_amount_minor, quote.inverted, quote.spread_bps) == (9_900, True, 100)
    assert quote.expires_at == now + timedelta(seconds=60)
    assert usd.id != usd_rich.id


def test_refusals(app: Flask, customer_user: User, other_customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    other_eur, other_usd = two_accounts(other_customer_user)
    second_eur = factories.make_account(factories.customer_of(customer_user), "EUR")
    jpy = factories.make_account(factories.customer_of(customer_user), "GBP")

    def ask(source: int, target: int, amount: object = 1_000, actor: User = customer_user) -> None:
        quotes.request_quote(
            actor,
            from_account_id=source,
            to_account_id=target,
            amount_minor=amount,  # type: ignore[arg-type]
        )

    with pytest.raises(NotFound):
        ask(other_eur.id, usd.id)
    with pytest.raises(NotFound):
        ask(eur.id, other_usd.id)
    with pytest.raises(NotFound):
        ask(eur.id, 999_999)
    with pytest.raises(InvalidInput, match="same currency"):
        ask(eur.id, second_eur.id)
    with pytest.raises(InvalidInput, match="different accounts"):
        ask(eur.id, eur.id)
    with pytest.raises(InvalidInput, match="greater than zero"):
        ask(eur.id, usd.id, 0)
    with pytest.raises(InvalidInput, match="greater than zero"):
        ask(eur.id, usd.id, "10")
    with pytest.raises(InsufficientFunds):
        ask(eur.id, usd.id, 100_001)
    with pytest.raises(InvalidInput, match="no exchange rate for EUR/GBP"):
        ask(eur.id, jpy.id)
    with pytest.raises(Forbidden):
        ask(eur.id, usd.id, actor=factories.make_staff(None, "teller"))


def test_a_quote_is_used_once_and_not_after_it_expires(app: Flask, customer_user: User) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    now = utcnow()
    quote = quotes.request_quote(
        customer_user, from_account_id=eur.id, to_account_id=usd.id, amount_minor=1_000, now=now
    )
    assert quotes.get_quote(customer_user, quote.id).id == quote.id
    quotes.check_open(quote, now)
    with pytest.raises(Conflict, match="expired"):
        quotes.check_open(quote, now + timedelta(seconds=30))
    with pytest.raises(Conflict), write_transaction() as s:
        quotes.consume(s, quote.id, quote.customer_id, now + timedelta(seconds=31))
    with write_transaction() as s:
        quotes.consume(s, quote.id, quote.customer_id, now + timedelta(seconds=1))
    with pytest.raises(Conflict, match="already used"), write_transaction() as s:
        quotes.consume(s, quote.id, quote.customer_id, now + timedelta(seconds=2))
    used = quotes.get_quote(customer_user, quote.id)
    assert used.used_at == now + timedelta(seconds=1)
    with pytest.raises(Conflict, match="already used"):
        quotes.check_open(used, now)


def test_another_customers_quote_is_not_found(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    quote = quotes.request_quote(
        customer_user, from_account_id=eur.id, to_account_id=usd.id, amount_minor=1_000
    )
    with pytest.raises(NotFound):
        quotes.get_quote(other_customer_user, quote.id)
    with pytest.raises(NotFound):
        quotes.get_quote(customer_user, "fxq_nothing")
    with pytest.raises(NotFound):
        quotes.get_quote(customer_user, 12)
