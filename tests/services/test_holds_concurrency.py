"""PostgreSQL: holds and debits against one available balance, from threads at once.

Every hold locks its account (``SELECT … FOR UPDATE``) and reads ``held_minor`` with it, so
two holds (or a hold and a withdrawal) that each fit but not together can never both pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from tests import factories
from tests.concurrency import in_threads, threaded_app
from vaulta.extensions import db
from vaulta.models import Account, User, utcnow
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.errors import InsufficientFunds
from vaulta.services.ledger import holds
from vaulta.services.ledger.checks import verify_ledger

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=8)


def _setup(balance_minor: int) -> tuple[int, int]:
    admin = factories.make_admin()
    accounts.system_account("EUR")
    account = factories.make_account(factories.make_customer(), "EUR", balance_minor)
    ids = admin.id, account.id
    db.session.remove()
    return ids


def _account(account_id: int) -> Account:
    db.session.rollback()
    found = db.session.get(Account, account_id, populate_existing=True)
    assert found is not None
    return found


def test_two_holds_that_fit_only_one_at_a_time_never_both_pass(pg_app: Flask) -> None:
    admin_id, account_id = _setup(1_000)
    expires = utcnow() + timedelta(days=1)

    def hold(_: int) -> int:
        actor = db.session.get(User, admin_id)
        return holds.place(account_id, 600, reason="Card", expires_at=expires, actor=actor)

    results = in_threads(pg_app, 2, hold)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert sum(isinstance(r, InsufficientFunds) for r in results) == 1, results
    assert _account(account_id).held_minor == 600
    assert verify_ledger() == []


def test_holds_and_withdrawals_at_once_never_overdraw(pg_app: Flask) -> None:
    """Eight threads, half holding and half withdrawing 300 of 1,000: three pass."""
    admin_id, account_id = _setup(1_000)
    expires = utcnow() + timedelta(days=1)

    def spend(i: int) -> object:
        actor = db.session.get(User, admin_id)
        if i % 2:
            return holds.place(account_id, 300, reason="Card", expires_at=expires, actor=actor)
        return ledger.withdraw(
            db.session.get(Account, account_id),  # type: ignore[arg-type]
            300,
            actor=actor,  # type: ignore[arg-type]
            description="cash",
        ).id

    results = in_threads(pg_app, 8, spend)
    assert sum(isinstance(r, int) for r in results) == 3, results
    assert sum(isinstance(r, InsufficientFunds) for r in results) == 5, results
    account = _account(account_id)
    assert account.available_minor == 100
    assert account.balance_minor >= 0
    assert verify_ledger() == []
