"""PostgreSQL: one quote confirmed by several requests at once converts exactly once (the
quote's conditional update), and the books stay balanced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.concurrency import in_threads, threaded_app
from tests.services.fx.support import load_rates, two_accounts
from vaulta.extensions import db
from vaulta.models import Transaction, User
from vaulta.services.changes import change_requests
from vaulta.services.errors import Conflict
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.ledger.fx import quotes

THREADS = 4


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=THREADS)


def test_a_quote_confirmed_at_once_by_several_requests_converts_once(pg_app: Flask) -> None:
    load_rates()
    user = factories.make_customer_login()
    eur, usd = two_accounts(user)
    quote = quotes.request_quote(
        user, from_account_id=eur.id, to_account_id=usd.id, amount_minor=10_000
    )
    user_id = user.id

    def confirm(_i: int) -> str:
        actor = db.session.get(User, user_id)
        assert actor is not None
        return change_requests.submit(
            "ledger.conversion", {"quote_id": quote.id}, actor=actor
        ).status

    results = in_threads(pg_app, THREADS, confirm)
    assert results.count("approved") == 1, results
    assert all(isinstance(r, Conflict) for r in results if r != "approved"), results
    db.session.rollback()
    converted = db.session.scalar(
        sa.select(sa.func.count()).select_from(Transaction).where(Transaction.kind == "conversion")
    )
    assert converted == 1
    assert verify_ledger() == []
