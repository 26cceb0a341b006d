"""Fixtures for the JSON API tests: keys, funded accounts, a bearer client, fresh limits."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from limits.storage import MemoryStorage

from tests.webclient import WebClient
from vaulta.extensions import db, limiter
from vaulta.models import Account, ApiKey, User, utcnow
from vaulta.services.identity import api_keys
from vaulta.services.unit_of_work import write_transaction

VALID_IBAN = "GB82WEST12345698765432"
BOTH_SCOPES = ("read", "payments:write")


class ApiTestClient(WebClient):
    """After each request the test's own session leaves its read transaction.

    Requests run in their own app context and session; on SQLite the test's session would
    otherwise keep reading its old snapshot and miss what the request committed.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        end_read_transaction()
        return response


@pytest.fixture(autouse=True)
def _fresh_api_state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Zero rate-limit counts and a private mail outbox."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    app.test_client_class = ApiTestClient
    if isinstance(limiter.storage, MemoryStorage):
        limiter.reset()
    yield


def make_key(user: User, scopes: tuple[str, ...] = BOTH_SCOPES, **kwargs: Any) -> str:
    """A raw API key for ``user`` (through the service: customers' logins only)."""
    return api_keys.create(user, "Test key", list(scopes), **kwargs).raw


def force_key(user: User, scopes: tuple[str, ...] = BOTH_SCOPES) -> str:
    """A key row written directly, for what the service refuses (an admin's key)."""
    prefix = "".join(secrets.choice("ABCDEFGHJK") for _ in range(api_keys.PREFIX_LENGTH))
    secret = secrets.token_urlsafe(api_keys.SECRET_BYTES)
    raw = f"vk_{prefix}_{secret}"
    with write_transaction() as s:
        s.add(
            ApiKey(
                user_id=user.id,
                name="Forced",
                prefix=prefix,
                secret_hash=api_keys.hash_secret(secret),
                last_four=raw[-4:],
                scopes=" ".join(scopes),
            )
        )
    return raw


def expire_key(raw: str) -> None:
    prefix = raw.split("_")[1]
    with write_transaction() as s:
        s.execute(
            sa.update(ApiKey)
            .where(ApiKey.prefix == prefix)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )


def bearer(raw: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}", **extra}


@pytest.fixture
def key(customer_user: User) -> str:
    return make_key(customer_user)


@pytest.fixture
def api(client: WebClient, key: str) -> WebClient:
    """A client that sends the customer's key (read + payments:write) on every request."""
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def payment_body(source: Account, target: Account | None = None, **changes: Any) -> dict:
    body: dict[str, Any] = {
        "from_account": source.number,
        "amount_minor": 1250,
        "currency": source.currency,
        "reference": "Invoice 42",
    }
    if target is not None:
        body["to_account"] = target.number
    else:
        body["beneficiary"] = {"name": "Acme Ltd", "iban": VALID_IBAN}
    body.update(changes)
    return body


def end_read_transaction() -> None:
    """The test's session starts a new transaction (snapshot) at its next query."""
    db.session.rollback()


def stored_text() -> str:
    """Every text-like value of every row of every table, as one string."""
    end_read_transaction()
    chunks = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).all():
            chunks.extend(str(value) for value in row)
    return "\n".join(chunks)
