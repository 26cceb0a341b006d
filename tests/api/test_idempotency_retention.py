"""Stored idempotency responses expire: `flask vaulta purge-idempotency-keys`."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.api.conftest import end_read_transaction, payment_body
from tests.helpers import count_rows
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, ApiIdempotencyKey, Payment, utcnow
from vaulta.services import api_idempotency


def _create(api: WebClient, body: dict, key: str):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/payments", json=body, headers={"Idempotency-Key": key})


def _keys() -> list[str]:
    end_read_transaction()
    return list(db.session.scalars(sa.select(ApiIdempotencyKey.key).order_by("key")))


def test_old_responses_are_purged_and_their_key_is_new_again(
    app: Flask, api: WebClient, source: Account, target: Account
) -> None:
    body = payment_body(source, target)
    old = _create(api, body, "old-key")
    recent = _create(api, body, "recent-key")
    assert old.status_code == recent.status_code == 201
    db.session.execute(
        sa.update(ApiIdempotencyKey)
        .where(ApiIdempotencyKey.key == "old-key")
        .values(created_at=utcnow() - timedelta(hours=25))
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["vaulta", "purge-idempotency-keys"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 stored idempotency response(s) older than 24 h." in result.output
    assert _keys() == ["recent-key"]
    replayed = _create(api, body, "recent-key")
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json["id"] == recent.json["id"]
    again = _create(api, body, "old-key")  # past the retention: a new request
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert again.json["id"] not in (old.json["id"], recent.json["id"])
    assert count_rows(Payment) == 3


def test_purge_keeps_what_is_younger_than_the_retention_and_refuses_zero(
    api: WebClient, source: Account, target: Account
) -> None:
    _create(api, payment_body(source, target), "k-1")
    later = utcnow() + timedelta(minutes=61)
    assert api_idempotency.purge_older_than(timedelta(hours=2), now=later) == 0
    assert api_idempotency.purge_older_than(timedelta(hours=1), now=later) == 1
    assert _keys() == []
    with pytest.raises(ValueError, match="positive"):
        api_idempotency.purge_older_than(timedelta(0))
