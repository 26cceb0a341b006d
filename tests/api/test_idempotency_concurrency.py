"""PostgreSQL: concurrent first requests with one Idempotency-Key create one payment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests import factories
from tests.api.conftest import bearer, make_key, payment_body
from tests.concurrency import in_threads, threaded_app
from tests.helpers import count_rows
from vaulta.extensions import db
from vaulta.models import ApiIdempotencyKey, AuditEvent, Payment

pytestmark = pytest.mark.postgres_only
THREADS = 8


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=THREADS)


def _setup() -> tuple[str, dict]:
    user = factories.make_customer_login()
    source = factories.make_account(factories.customer_of(user), "EUR", 100_000)
    target = factories.make_account(factories.make_customer(), "EUR")
    return make_key(user), payment_body(source, target)


def _post(app: Flask, raw: str, body: dict, key: str) -> tuple[int, dict, str | None]:
    response = app.test_client().post(
        "/api/v1/payments", json=body, headers=bearer(raw, **{"Idempotency-Key": key})
    )
    return response.status_code, response.json, response.headers.get("Idempotent-Replayed")


def test_concurrent_first_requests_create_one_payment(pg_app: Flask) -> None:
    raw, body = _setup()
    db.session.remove()
    results = in_threads(pg_app, THREADS, lambda _i: _post(pg_app, raw, body, "same-key"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert {status for status, _, _ in results} == {201}, results
    assert len({r[1]["id"] for r in results}) == 1
    assert all(r[1] == results[0][1] for r in results)  # every answer is the stored one
    assert sum(1 for r in results if r[2] is None) == 1  # one creation, the rest replays
    assert count_rows(Payment, fresh=True) == 1
    assert count_rows(ApiIdempotencyKey, fresh=True) == 1
    assert count_rows(AuditEvent, AuditEvent.action == "payment.request_api") == 1


def test_concurrent_requests_with_one_key_and_different_bodies(pg_app: Flask) -> None:
    raw, body = _setup()
    db.session.remove()
    bodies = [{**body, "amount_minor": 100 + i % 2} for i in range(THREADS)]
    results = in_threads(pg_app, THREADS, lambda i: _post(pg_app, raw, bodies[i], "contested"))
    assert not [r for r in results if isinstance(r, Exception)], results
    created = [r for r in results if r[0] == 201]
    refused = [r for r in results if r[0] == 409]
    assert len(created) + len(refused) == THREADS
    winner = created[0][1]
    assert all(r[1] == winner for r in created)  # the winner and replays of its own body
    assert all(r[1]["error"]["code"] == "idempotency_key_reused" for r in refused)
    assert all(
        bodies[i]["amount_minor"] == winner["amount_minor"]
        for i, r in enumerate(results)
        if r[0] == 201
    )
    assert count_rows(Payment, fresh=True) == 1
