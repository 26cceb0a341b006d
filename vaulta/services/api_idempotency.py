"""Idempotent API requests: the first response to an ``Idempotency-Key`` is kept and replayed.

A client that retries a request (a timeout, a lost connection) sends the same key again and
gets the first response back verbatim, without a second payment. The key is per user; the
same key with a different request is refused (409 ``idempotency_key_reused``).

The work and the stored response commit in ONE transaction, and ``(user_id, key)`` is
unique: when two first requests with one key race, the second insert fails (PostgreSQL
waits for the first transaction, then raises), its whole transaction — its payment too —
rolls back, and it replays what the first one stored. On SQLite the write transactions are
serialised (``BEGIN IMMEDIATE``) and the key is looked up again inside the transaction.

Only requests that did their work are stored: input refused before the work started (422)
is not, so a client can correct the request and retry with the same key (as Stripe does).

Stored responses are kept for API_IDEMPOTENCY_RETENTION_HOURS (24 by default) and then
deleted by ``flask vaulta purge-idempotency-keys`` (run it from cron); a key sent again
after that is a new request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import ApiIdempotencyKey, User, utcnow
from vaulta.services.errors import Conflict
from vaulta.services.unit_of_work import session, write_transaction

KEY_MAX_LENGTH = 64


class IdempotencyKeyReused(Conflict):
    """The key was first used for a different request."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class StoredResponse:
    """What to answer: ``replayed`` is true when it is the stored first response."""

    status: int
    body: dict[str, Any]
    replayed: bool


def request_hash(method: str, path: str, body: Mapping[str, Any]) -> str:
    """SHA-256 of the request: method, path and the JSON body in a canonical form.

    Key order and white space do not matter; any change of a value does.
    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def _find(s: Session, user_id: int, key: str) -> ApiIdempotencyKey | None:
    return s.scalar(
        sa.select(ApiIdempotencyKey).where(
            ApiIdempotencyKey.user_id == user_id, ApiIdempotencyKey.key == key
        )
    )


def _replay(record: ApiIdempotencyKey, hashed: str) -> StoredResponse:
    if record.request_hash != hashed:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request: "
            "use a new key for a new request."
        )
    return StoredResponse(record.response_status, dict(record.response_body), replayed=True)


def stored(user: User, key: str, hashed: str) -> StoredResponse | None:
    """The stored response for ``key`` when the request is the same; None for a new key.

    Raises IdempotencyKeyReused when the key was used for a different request.
    """
    record = _find(session(), user.id, key)
    return None if record is None else _replay(record, hashed)


def run_once(
    user: User,
    key: str,
    hashed: str,
    work: Callable[[Session], tuple[int, dict[str, Any]]],
) -> StoredResponse:
    """Run ``work(s)`` once for ``key`` and store its (status, JSON body) with it.

    ``work`` runs inside the write transaction that stores the response; it must not open
    a transaction of its own. A key seen before is replayed (or refused) instead.
    """
    try:
        with write_transaction() as s:
            record = _find(s, user.id, key)
            if record is None:
                status, body = work(s)
                s.add(
                    ApiIdempotencyKey(
                        user_id=user.id,
                        key=key,
                        request_hash=hashed,
                        response_status=status,
                        response_body=body,
                    )
                )
                s.flush()
                return StoredResponse(status, body, replayed=False)
    except sa.exc.IntegrityError:
        record = _find(session(), user.id, key)
        if record is None:
            raise
    return _replay(record, hashed)


def purge_older_than(retention: timedelta, *, now: datetime | None = None) -> int:
    """Delete the stored responses older than ``retention``; return how many.

    One statement: the table holds about a day of API requests, so no index is needed.
    """
    if retention <= timedelta(0):
        raise ValueError("the retention must be positive")
    cutoff = (now or utcnow()) - retention
    with write_transaction() as s:
        result = s.execute(
            sa.delete(ApiIdempotencyKey).where(ApiIdempotencyKey.created_at < cutoff),
            execution_options={"synchronize_session": False},
        )
    return int(result.rowcount)
