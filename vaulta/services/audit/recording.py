"""The audit log: one row per admin action and money movement, in the caller's transaction.

The client address is not read from a request here: the web layer puts it in
``client_address`` (a context variable) for the duration of each request, and other
callers (CLI, tests) leave it empty or set it themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import AuditEvent, User

client_address: ContextVar[str | None] = ContextVar("vaulta_client_address", default=None)

# Keys that must never reach the log, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "code", "otp", "secret", "token", "api_key", "key"})


INSERT = sa.insert(AuditEvent.__table__)


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
        details = self.details or {}
        return {
            "actor_id": actor if actor is None or isinstance(actor, int) else actor_id(actor),
            "action": self.action,
            "object_type": self.object_type,
            "object_id": None if self.object_id is None else str(self.object_id),
            "details": {k: v for k, v in details.items() if k.lower() not in SECRET_KEYS},
            "client_address": client_address.get(),
        }


def record(
    s: Session,
    *,
    actor: User | int | None,
    action: str,
    object_type: str,
    object_id: object = None,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Insert an audit event in the current transaction (committed or rolled back with it).

    ``actor`` is the acting user or their id; the new event's id is returned.
    """
    if s.new:
        s.flush()  # rows the event may point at (its actor, a new customer) go in first
    event = Event(actor, action, object_type, object_id, details)
    result = s.connection().execute(INSERT, event.row())
    return int(result.inserted_primary_key[0])


def record_all(s: Session, events: Sequence[Event]) -> None:
    """Insert several events in the current transaction with one statement."""
    if s.new:
        s.flush()
    s.connection().execute(INSERT, [event.row() for event in events])
