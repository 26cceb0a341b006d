"""Two runners at once on PostgreSQL (two workers, or the CLI beside the worker): each due
date still makes exactly one run and one payment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.concurrency import in_threads, threaded_app
from tests.services.standing_orders.support import accounts_of, make_order
from vaulta.extensions import db
from vaulta.models import Payment, StandingOrderRun
from vaulta.services import standing_orders

ORDERS = 6


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=2)


@pytest.mark.postgres_only
def test_two_runners_make_each_run_once(pg_app: Flask) -> None:
    pg_app.config["STANDING_ORDER_CATCH_UP_DAYS"] = 30  # every missed date pays
    user = factories.make_customer_login("runner@example.test")
    other = factories.make_customer_login("payee@example.test")
    source, target = accounts_of(user, other)
    for _ in range(ORDERS):
        make_order(user, source, target, first=date(2027, 3, 1), frequency="weekly")
    db.session.remove()
    results = in_threads(pg_app, 2, lambda _: standing_orders.run_due(date(2027, 3, 15)))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["created"] for r in results) == ORDERS * 3  # 1, 8 and 15 March
    runs = db.session.execute(
        sa.select(StandingOrderRun.standing_order_id, StandingOrderRun.due_date)
    ).all()
    assert len(runs) == len(set(runs)) == ORDERS * 3
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == ORDERS * 3
