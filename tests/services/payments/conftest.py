"""Fixtures for payment tests: a private mail outbox, funded accounts and their owners."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import factories
from vaulta.models import Account, User


@pytest.fixture(autouse=True)
def _private_outbox(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Console mail goes to this test's own folder."""
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")


@pytest.fixture
def source(customer_user: User) -> Account:
    """The requesting customer's EUR account with 1,000.00."""
    return factories.make_account(factories.customer_of(customer_user), "EUR", 100_000)


@pytest.fixture
def target(other_customer_user: User) -> Account:
    """Another customer's EUR account, empty."""
    return factories.make_account(factories.customer_of(other_customer_user), "EUR")
