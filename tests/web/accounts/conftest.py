"""Fixtures for the accounts pages: an account of the signed-in customer and a helper or two."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from vaulta.extensions import db
from vaulta.models import Account, User


@pytest.fixture
def owned(app: Flask, customer_user: User) -> Account:
    """A EUR account of ``customer_user`` holding 100.00 EUR."""
    return factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)


def status_of(account: Account) -> str:
    return str(db.session.scalar(sa.select(Account.status).where(Account.id == account.id)))


def idempotency_key(html: str, action: str) -> str:
    """The one-time key a rendered deposit/withdrawal form carries."""
    match = re.search(rf'name="{action}-idempotency_key"[^>]*value="([0-9a-f]+)"', html)
    if match is None:
        match = re.search(rf'value="([0-9a-f]+)"[^>]*name="{action}-idempotency_key"', html)
    assert match is not None, f"no {action} idempotency key in the page"
    return match.group(1)
