"""The audit log: one row per admin action and money movement, in the caller's transaction.

The client address is not read from a request here: the web layer puts it in
``client_address`` (a context variable) for the duration of each request, and other
callers (CLI, tests) leave it empty or set it themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import AuditEvent, User

client_address: ContextVar[str | None] = ContextVar("vaulta_client_address", default=None)

# Keys that must never reach the log, whatever a caller passes.
SECRET_KEYS = frozenset({"password", "code", "otp", "secret", "token", "api_key", "key"})


def record(
    s: Session,
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (committed or rolled back with it)."""
    clean = {k: v for k, v in (details or {}).items() if k.lower() not in SECRET_KEYS}
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=clean,
        client_address=client_address.get(),
    )
    s.add(event)
    return event
