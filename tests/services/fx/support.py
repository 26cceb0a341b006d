"""Rates, accounts and clocks for the FX tests."""

from __future__ import annotations

from datetime import UTC, datetime

from tests import factories
from vaulta.models import Account, User
from vaulta.services.ledger.fx import rates

RATES = """base,quote,rate,valid_from
EUR,USD,1.0850,2026-01-01T00:00:00Z
USD,JPY,150.25,2026-01-01T00:00:00Z
"""
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def load_rates() -> None:
    rates.import_rates(RATES, source="test", actor=None)


def two_accounts(user: User, eur_minor: int = 100_000) -> tuple[Account, Account]:
    """The customer's funded EUR account and empty USD account."""
    customer = factories.customer_of(user)
    return (
        factories.make_account(customer, "EUR", eur_minor),
        factories.make_account(customer, "USD"),
    )
