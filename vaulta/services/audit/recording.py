"""The audit log: one row per admin action and money movement, in the caller's transaction.

``record`` and ``record_all`` keep the events in the session; ``write_transaction`` chains
and inserts them just before it commits (vaulta/services/audit/chain.py), so they commit or
roll back with everything else the transaction wrote.

The client address and the request id are not read from a request here: the web layer
puts them in ``client_address`` and ``request_id`` (context variables) for the duration of
each request, and other callers (CLI, jobs, tests) leave them empty or set them
themselves. The request id goes into the event's details (``request_id``), which the hash
chain already covers as stored: the canonical form is unchanged (chain.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import User, utcnow
from vaulta.services.audit import chain

client_address: ContextVar[str | None] = ContextVar("vaulta_client_address", default=None)
# The request's id (vaulta/logs.py sets it for each request): added to every event's details
# as ``request_id``, so an audit event leads to the request's log lines.
request_id: ContextVar[str | None] = ContextVar("vaulta_request_id", default=None)

# Keys that must never reach the log, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "code", "otp", "secret", "token", "api_key", "key"})


def actor_id(actor: User | None) -> int | None:
    """The user's id without loading it again (a committed session expires its objects)."""
    if actor is None:
        return None
    identity = sa.inspect(actor).identity
    return int(identity[0]) if identity else actor.id


@dataclass(frozen=True)
class Event:
    """One audit event to insert; ``actor`` is the acting user or their id."""

    actor: User | int | None
    action: str
    object_type: str
    object_id: object = None
    details: Mapping[str, Any] | None = None

    def row(self) -> dict[str, Any]:
        actor = self.actor
        details = dict(self.details or {})
        if (current_request := request_id.get()) is not None:
            details.setdefault("request_id", current_request)
        return {
            "actor_id": actor if actor is None or isinstance(actor, int) else actor_id(actor),
            "action": self.action,
            "object_type": self.object_type,
            "object_id": None if self.object_id is None else str(self.object_id),
            "details": {k: v for k, v in details.items() if k.lower() not in SECRET_KEYS},
            "client_address": client_address.get(),
            "created_at": utcnow(),
        }


def record(
    s: Session,
    *,
    actor: User | int | None,
    action: str,
    object_type: str,
    object_id: object = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record an audit event in the current write transaction (committed or rolled back
    with it). ``actor`` is the acting user or their id."""
    if s.new:
        s.flush()  # an actor added in this transaction gets its id first
    chain.pending(s).append(Event(actor, action, object_type, object_id, details).row())


def record_all(s: Session, events: Sequence[Event]) -> None:
    """Record several events in the current write transaction."""
    if s.new:
        s.flush()
    chain.pending(s).extend(event.row() for event in events)
