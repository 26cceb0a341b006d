"""Fixtures for the scale-out tests: a PostgreSQL database of their own, Redis, a secret
key shared by the instances, and data made through the services in the test process."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from tests import factories
from tests.databases import fresh_postgres_database, migrate_to_head, require_postgres
from tests.services.payments.factories import make_payment
from vaulta import create_app
from vaulta.extensions import db
from vaulta.models import Payment, Transaction
from vaulta.services.ledger.checks import verify_ledger

REDIS_URL = os.environ.get("VAULTA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# A database number of its own; counts are also keyed by a per-test client address.
SCALEOUT_REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/9"


def require_redis() -> str:
    import redis

    try:
        redis.Redis.from_url(SCALEOUT_REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as err:
        message = f"scale-out tests need Redis at {SCALEOUT_REDIS_URL} ({err})"
        if os.environ.get("VAULTA_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " but VAULTA_REQUIRE_POSTGRES=1")
        pytest.skip(message)
    return SCALEOUT_REDIS_URL


@pytest.fixture(scope="module")
def shared_secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    with fresh_postgres_database(require_postgres(), "scale") as url:
        migrate_to_head(url)
        yield url


@contextmanager
def app_on(url: str) -> Iterator[None]:
    """The testing app on ``url`` in this process (to make data and check the outcome)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


@dataclass(frozen=True)
class Book:
    approver_email: str
    payment_ids: list[int]


def make_book(url: str, payments: int) -> Book:
    """An approver, and ``payments`` pending payments of 10.00 EUR between customers."""
    with app_on(url):
        approver = factories.make_staff(f"approver-{secrets.token_hex(4)}@example.test", "approver")
        requester = factories.make_customer_login()
        source = factories.make_account(factories.customer_of(requester), "EUR", 1_000_000)
        target = factories.make_account(factories.make_customer(), "EUR")
        ids = [make_payment(requester, source, to=target).id for _ in range(payments)]
        return Book(approver.email, ids)


@dataclass(frozen=True)
class Outcome:
    status: str
    transaction_id: int | None
    postings: int  # ledger transactions referencing the payment
    ledger_problems: list[str]


def outcome(url: str, payment_id: int) -> Outcome:
    with app_on(url):
        payment = db.session.get(Payment, payment_id)
        assert payment is not None
        postings = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Transaction)
            .where(Transaction.reference == f"PAY-{payment_id}")
        )
        return Outcome(payment.status, payment.transaction_id, int(postings or 0), verify_ledger())
