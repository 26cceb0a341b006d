"""Fixtures of the inbox's tests: an account to move money on, and requests made by the
teller through the service (the teller's own pages are tested in tests/web/accounts)."""

from __future__ import annotations

import pytest
from flask import Flask

from tests import factories
from vaulta.models import Account, ChangeRequest, User
from vaulta.services.changes import change_requests


@pytest.fixture
def owned(app: Flask, customer_user: User) -> Account:
    """A EUR account of ``customer_user`` holding 100.00 EUR."""
    return factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)


def deposit_request(
    teller: User, account: Account, amount_minor: int, description: str = "Cash desk"
) -> ChangeRequest:
    return change_requests.submit(
        "ledger.deposit",
        {"account_id": account.id, "amount_minor": amount_minor, "description": description},
        actor=teller,
    )
